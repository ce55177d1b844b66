"""A small results folder made on the tiny model, for tests of export, plots and the report
page: core and autointerp (with given explanations and a scripted keyword judge) on two
tiny SAEs. Seconds on a CPU; nothing downloaded."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sae_interp.testing.tiny import (
    TINY_MODEL_SPEC,
    TINY_WORDS,
    make_tiny_sae,
    register_tiny_model,
    write_tiny_corpus,
)

# latent 3's text checks that the page escapes what it shows
DEMO_EXPLANATIONS = {k: f"the token {TINY_WORDS[k]}" for k in range(5)} | {
    3: "a <script>alert(1)</script> tag"
}


def keyword_judge(request: Any) -> str:
    """Detection answers: 1 for each excerpt that contains the explanation's last word."""
    last = request.messages[-1].content
    keyword = last.splitlines()[0].rsplit(" ", 1)[-1]
    excerpts = [line.split(": ", 1)[1] for line in last.splitlines() if line.startswith("Excerpt")]
    return "[" + ", ".join(str(int(keyword in e)) for e in excerpts) + "]"


def write_demo_results(root: Path) -> Path:
    """Run the demo evals into ``root / 'out'`` (latent caches under ``root / 'cache'``,
    the environment's cache setting restored afterwards); returns the results folder."""
    from sae_interp.evals.autointerp import AutoInterpEvalConfig
    from sae_interp.evals.autointerp import run_eval as run_autointerp
    from sae_interp.evals.core import CoreEvalConfig
    from sae_interp.evals.core import run_eval as run_core
    from sae_interp.llm import ScriptedBackend
    from sae_interp.llm.settings import LLM_BACKENDS

    register_tiny_model()
    saes = {
        "tiny-a": make_tiny_sae(d_sae=32, k=4, seed=1),
        "tiny-b": make_tiny_sae(d_sae=32, k=2, seed=2),
    }
    before = os.environ.get("SAE_INTERP_CACHE")
    os.environ["SAE_INTERP_CACHE"] = str(root / "cache")
    try:
        corpus = write_tiny_corpus(root / "corpus.txt")
        common: dict[str, Any] = {
            "model": TINY_MODEL_SPEC,
            "saes": list(saes),
            "corpus": str(corpus),
            "ctx_len": 33,
            "device": "cpu",
            "output_dir": root / "out",
        }
        run_core(CoreEvalConfig(**common, n_tokens=512, n_ce_tokens=128), saes=saes)
        backend = ScriptedBackend(keyword_judge)
        LLM_BACKENDS.register("demo-keyword-judge", lambda s, st: backend, overwrite=True)
        path = root / "explanations.jsonl"
        path.write_text(
            "".join(
                json.dumps({"latent": k, "explanation": v}) + "\n"
                for k, v in DEMO_EXPLANATIONS.items()
            )
        )
        sampling = {"window_len": 8, "n_train": 2, "n_test": 6, "n_negatives": 4}
        cfg = AutoInterpEvalConfig.model_validate(
            common
            | {
                "n_tokens": 2048,
                "explanations": str(path),
                "sampling": sampling | {"min_activating": 2},
                "llm": {"backend": "demo-keyword-judge", "cache": False},
            }
        )
        run_autointerp(cfg, saes=saes)
    finally:
        if before is None:
            os.environ.pop("SAE_INTERP_CACHE", None)
        else:
            os.environ["SAE_INTERP_CACHE"] = before
    return root / "out"
