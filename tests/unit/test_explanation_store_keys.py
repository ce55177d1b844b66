"""Stored explanations stay findable: the path of an explanation store is a hash of every
setting that shapes an explanation, and a change to how that hash is computed would orphan
every explanation users have paid for. These paths were computed by the release that
introduced the explainer registry and must not change."""

from __future__ import annotations

from pathlib import Path

import pytest

from sae_interp.evals.autointerp.eval_config import AutoInterpEvalConfig
from sae_interp.evals.fuzzing.eval_config import FuzzingEvalConfig
from sae_interp.explainers.registry import store_path

SPEC = "default:gemma-3-270m/L6_k32"
FOLDER = Path("out/explanations/gemma-3-270m__default_gemma-3-270m_L6_k32")


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("one_shot", "one_shot_b7c9fa7b55939281.jsonl"),
        ("structured", "structured_c8074b55b9d4bf7e.jsonl"),
        ("tree", "tree_cfd856772d4f00e1.jsonl"),
    ],
)
def test_default_store_paths_are_unchanged(kind: str, name: str) -> None:
    cfg = AutoInterpEvalConfig(
        explainer_kind=kind, output_dir="out", model="gemma-3-270m", saes=["x"]
    )
    assert store_path(cfg, SPEC, "f" * 16) == FOLDER / name


def test_evals_share_one_store_and_negatives_do_not_key_it() -> None:
    fuzzing = FuzzingEvalConfig(output_dir="out", model="gemma-3-270m", saes=["x"])
    assert store_path(fuzzing, SPEC, "f" * 16) == FOLDER / "one_shot_b7c9fa7b55939281.jsonl"
    base = {"output_dir": "out", "model": "gemma-3-270m", "saes": ["x"], "seed": 7}
    remote = {"backend": "openai", "model": "gpt-4o-mini"}
    cfg = AutoInterpEvalConfig(**base, llm=remote, sampling={"n_train": 10, "n_negatives": 3})
    expected = Path(
        "out/explanations/gemma-3-270m__sae.safetensors/one_shot_62f94084e06c217f.jsonl"
    )
    assert store_path(cfg, "sae.safetensors", "0123456789abcdef") == expected
    # negatives are never shown to an explainer: other negatives, same store
    other = AutoInterpEvalConfig(**base, llm=remote, sampling={"n_train": 10, "n_negatives": 9})
    assert store_path(other, "sae.safetensors", "0123456789abcdef") == expected
    # the train windows are: another count, another store
    fewer = AutoInterpEvalConfig(**base, llm=remote, sampling={"n_train": 8, "n_negatives": 3})
    assert store_path(fewer, "sae.safetensors", "0123456789abcdef") != expected
