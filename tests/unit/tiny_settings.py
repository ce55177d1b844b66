"""The settings most unit tests run an eval with on the tiny model (small corpus, short
windows, a few latents), as one dict to extend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sae_interp.testing import TINY_MODEL_SPEC

TINY_SAMPLING = {"window_len": 8, "n_train": 4, "n_test": 4, "n_negatives": 4, "min_activating": 4}


def tiny_eval_values(tmp_path: Path, corpus: Path, llm: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": TINY_MODEL_SPEC,
        "saes": ["tiny"],
        "corpus": str(corpus),
        "n_tokens": 2048,
        "ctx_len": 33,
        "device": "cpu",
        "output_dir": tmp_path / "out",
        "n_latents": 4,
        "sampling": TINY_SAMPLING,
        "llm": llm,
    }
