"""Every registered eval end to end on the tiny model with one scripted LLM: its dry-run
plan, a run, its output read back with its own output class, and a rerun that finds the
stored result and asks the LLM nothing. An eval that registers without an entry in
``SETTINGS`` fails the first test, so a new eval is covered the moment it registers."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    AGENT_REPLIES,
    TINY_SAMPLING,
    TinyEmbedder,
    last_word_task,
    task_of,
    tiny_eval_values,
)

from sae_interp.evals import eval_names, get_eval
from sae_interp.framework.runner import plan_per_sae, result_path, run_per_sae
from sae_interp.llm import ScriptedBackend
from sae_interp.llm.settings import LLM_BACKENDS
from sae_interp.probing.datasets import register_dataset, unregister_dataset
from sae_interp.testing import TINY_LONG_MODEL_SPEC, make_tiny_sae

SAMPLING = TINY_SAMPLING | {"n_train": 6}

# each eval's settings beyond the shared ones (small sizes on the tiny model)
SETTINGS: dict[str, dict[str, Any]] = {
    "core": {"n_tokens": 512, "n_ce_tokens": 128},
    "autointerp": {},
    "fuzzing": {},
    "surprisal": {"scoring_lm": {"model": TINY_LONG_MODEL_SPEC}},
    "embedding": {},
    "simulation": {},
    "intruder": {},
    "intervention": {
        "sampling": SAMPLING | {"n_train": 2, "n_test": 3, "n_negatives": 0, "min_activating": 5},
        "steering": {"target_kl": 0.5, "prompt_len": 12, "n_continuation_tokens": 4},
        "explainer": {"n_explanations": 2},
        "scoring_lm": {"model": TINY_LONG_MODEL_SPEC},
        "random_sae_control": False,
    },
    "agentic": {
        "n_latents": 2,
        "sampling": SAMPLING | {"train_strategy": "top", "n_negatives": 0, "min_activating": 8},
        "agent": {"max_rounds": 4, "min_tests": 3, "top_k": 4},
        "prediction": {"n_per_band": 1, "top_logprobs": 0},
    },
    "sparse_probing": {"datasets": ["toy_last_word"], "ks": [1, 4], "max_seq_len": 64},
    "all": {
        "evals": ["autointerp", "fuzzing", "intruder", "sparse_probing"],
        # settings of a whole eval that evals.all does not have come from its config file
        "config_files": {
            "sparse_probing": {"datasets": ["toy_last_word"], "ks": [1, 4], "max_seq_len": 64}
        },
    },
}

EXPLAINED = itertools.count()


def reply(request):  # type: ignore[no-untyped-def]
    """A plausible answer to whatever an eval asks, read from the request's own text."""
    system, last, task = request.messages[0].content, request.messages[-1].content, task_of(request)
    n_excerpts = sum(line.startswith("Excerpt") for line in last.splitlines())
    if task == "explain_outputs":
        line = next(x for x in last.splitlines() if x.startswith("Rose"))
        return f"[EXPLANATION]: {line.split(chr(34))[1]}"
    if task == "explain":
        token = last.split('"')[1] if '"' in last else "the"
        return f"[EXPLANATION]: the token {token} (#{next(EXPLAINED)})"
    if task in ("detection", "fuzzing"):
        return "[" + ", ".join("1" if i % 2 else "0" for i in range(n_excerpts)) + "]"
    if task == "saebench":
        return "1"
    if task == "generation":
        return '{"texts": ["the cat", "a red cat ran", "one two three"]}'
    if task == "prediction":
        n = int(re.search(r"list of (\d+) integers", last).group(1))  # type: ignore[union-attr]
        return "[" + ", ".join("5" if i % 2 else "0" for i in range(n)) + "]"
    if "intruder" in last:
        return "2"
    if "Tokens:" in last:  # a simulation: a value per listed token
        tokens = re.findall(r"^\d+ (.*)$", last, flags=re.MULTILINE)
        return json.dumps([10 if "the" in t else 0 for t in tokens])
    agent = [v for k, v in AGENT_REPLIES.items() if k in last]
    assert agent, f"an eval asked something this script cannot answer: {system[:80]!r}"
    return agent[0]


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedBackend]:
    scripted = ScriptedBackend(reply)
    LLM_BACKENDS.register("every-eval", lambda settings, stack: scripted, overwrite=True)
    embedder = TinyEmbedder()
    monkeypatch.setattr("sae_interp.evals.embedding.main.load_embedder", lambda *a, **k: embedder)
    register_dataset(last_word_task())
    yield scripted
    unregister_dataset("toy_last_word")


def test_every_registered_eval_is_covered() -> None:
    assert set(SETTINGS) == set(eval_names())


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_eval_plans_runs_reads_back_and_resumes(
    name: str, backend: ScriptedBackend, tmp_path: Path, corpus_file: Path
) -> None:
    definition = get_eval(name)
    shared = tiny_eval_values(tmp_path, corpus_file, {"backend": "every-eval", "cache": False})
    shared |= {"n_latents": 3, "sampling": SAMPLING}
    values = shared | SETTINGS[name]
    for other, settings in values.pop("config_files", {}).items():
        file = tmp_path / f"{other}.json"
        file.write_text(json.dumps(settings))
        values.setdefault("eval_config_files", []).append(f"{other}={file}")
    fields = definition.config_cls.model_fields
    config = definition.config_cls.model_validate({k: v for k, v in values.items() if k in fields})
    saes = {"tiny": make_tiny_sae(d_sae=32, k=4)}

    if definition.plan is not None:
        (plan,) = plan_per_sae(definition, config, saes=saes)
        assert plan.calls > 0 and backend.calls == []  # planning asks nothing
    (out,) = run_per_sae(definition, config, saes=saes)
    calls = len(backend.calls)
    assert out.eval_type_id == name
    path = result_path(config, name, "tiny")
    loaded = definition.output_cls.model_validate_json(path.read_text())
    assert loaded.eval_result_metrics.model_dump() == out.eval_result_metrics.model_dump()
    assert len(loaded.eval_result_details) == len(out.eval_result_details) > 0
    assert not out.failures  # the scripted answers are all readable

    (again,) = run_per_sae(definition, config, saes=saes)  # the stored result is reused
    assert len(backend.calls) == calls
    assert again.eval_result_metrics.model_dump() == out.eval_result_metrics.model_dump()
