import json
from pathlib import Path

import pytest
from helpers import task_of, tiny_eval_values

from sae_interp.compare import compare, load_result
from sae_interp.evals.intervention import InterventionEvalConfig, run_eval
from sae_interp.evals.intervention.main import DEFINITION
from sae_interp.framework.runner import plan_per_sae
from sae_interp.llm import LLMError, ScriptedBackend
from sae_interp.llm.settings import LLM_BACKENDS
from sae_interp.testing import TINY_LONG_MODEL_SPEC, make_tiny_sae


class OutputExplainer:
    """Names the first token that rose most; the first ``broken`` answers are unusable."""

    def __init__(self, broken: int = 0) -> None:
        self.backend = ScriptedBackend(self.reply)
        self.broken = broken

    def reply(self, request):  # type: ignore[no-untyped-def]
        assert task_of(request) == "explain_outputs"
        if self.broken:
            self.broken -= 1
            return LLMError("500 after retries")
        line = next(x for x in request.messages[-1].content.splitlines() if x.startswith("Rose"))
        return f"[EXPLANATION]: {line.split(chr(34))[1]}"


@pytest.fixture
def explainer() -> OutputExplainer:
    explainer = OutputExplainer()
    LLM_BACKENDS.register("output-explainer", lambda s, stack: explainer.backend, overwrite=True)
    return explainer


def _config(tmp_path: Path, corpus: Path, **kw) -> InterventionEvalConfig:
    llm = {"backend": "output-explainer", "cache": False}
    values = tiny_eval_values(tmp_path, corpus, llm) | {
        "n_latents": 3,
        "sampling": {
            "window_len": 8,
            "n_train": 2,
            "n_test": 3,
            "n_negatives": 0,
            "min_activating": 5,
        },
        "steering": {"target_kl": 0.5, "prompt_len": 12, "n_continuation_tokens": 4},
        "explainer": {"n_explanations": 2},
        "scoring_lm": {"model": TINY_LONG_MODEL_SPEC},
    }
    return InterventionEvalConfig.model_validate(values | kw)


SAE = {"tiny": make_tiny_sae(d_sae=32, k=4)}


def test_intervention_with_both_controls(
    explainer: OutputExplainer, tmp_path: Path, corpus_file: Path
) -> None:
    (out,) = run_eval(_config(tmp_path, corpus_file), saes=SAE)
    m = out.eval_result_metrics
    assert m.n_requested == 3 and m.n_scored == 3 and m.intervention is not None
    # a latent whose KL saturates below the target is reported (and still scored), not dropped
    converged = [r for r in out.eval_result_details if r.strength.converged]
    assert len(converged) == 3 - m.n_not_converged >= 1
    assert m.intervention.converged.value == pytest.approx(len(converged) / 3)
    assert all(abs(r.strength.kl - 0.5) <= 0.05 for r in converged)
    assert m.shuffled_control is not None and m.shuffled_control.n_latents == 3
    assert m.real_minus_shuffled_control is not None
    assert m.real_minus_shuffled_control.n_latents == 3
    # the shuffled control re-scores the same steering: only the score differs
    assert m.real_minus_shuffled_control.kl.value == pytest.approx(0.0)
    assert m.random_sae_control is not None and m.random_sae_control.n_latents >= 1
    assert m.real_minus_random_sae is not None
    # 2 explanations per latent, for the SAE and for its random SAE
    assert m.llm_usage["calls"] == 2 * 3 + 2 * m.random_sae_control.n_latents
    for r in out.eval_result_details:
        assert r.strength is not None and len(r.strength.trace) <= 12
        assert len(r.continuations) == 3 and len(r.train_top_tokens) == 2
        assert all(len(row) == 5 for row in r.train_top_tokens)
        assert len(r.explanation_scores) == 2 and r.score == max(r.explanation_scores)
        assert r.control_explanation_of not in (None, r.latent) and r.control_score is not None
    # the random SAE's arm: one latent per latent, matched by firing frequency, written as a
    # result of its own that compare pairs with the SAE's
    arm = load_result(tmp_path / "out" / "intervention" / "tiny-random__tiny_random_sae_0.json")
    assert arm.provenance.sae_spec == "tiny#random_sae_0"
    assert len(arm.eval_result_details) == 3
    assert all(d.strength is not None for d in arm.eval_result_details if d.status == "ok")
    assert arm.eval_result_metrics.intervention == m.random_sae_control
    assert arm.eval_result_metrics.random_sae_control is None
    versus = compare(out, arm)
    assert versus.n_latents_a == 3 and versus.n_latents_b == m.random_sae_control.n_latents


def test_resume_and_failures(tmp_path: Path, corpus_file: Path) -> None:
    explainer = OutputExplainer(broken=2)  # the first latent gets no explanation
    LLM_BACKENDS.register("output-explainer", lambda s, stack: explainer.backend, overwrite=True)
    cfg = _config(tmp_path, corpus_file, random_sae_control=False)
    (out,) = run_eval(cfg, saes=SAE)
    assert out.eval_result_metrics.n_failed_explanations == 1
    failed = next(r for r in out.eval_result_details if r.status == "explanation_failed")
    assert failed.score is None and all(e.error for e in failed.explanations)
    # the failed latent is counted, not stored; kill after one stored latent: the rerun
    # steers and explains the other two again (2 explanations each), this time with success
    result = next((tmp_path / "out" / "intervention").glob("*.json"))
    jsonl = next((tmp_path / "out" / "intervention").rglob("latents_*.jsonl"))
    stored = [json.loads(x) for x in jsonl.read_text().splitlines()]  # last line per latent wins
    assert len({x["latent"] for x in stored}) == 2 and all(x["status"] == "ok" for x in stored)
    assert failed.latent not in {x["latent"] for x in stored}
    result.unlink()
    kept = stored[0]["latent"]
    jsonl.write_text("".join(json.dumps(x) + "\n" for x in stored if x["latent"] == kept))
    calls = len(explainer.backend.calls)
    (again,) = run_eval(cfg, saes=SAE)
    assert len(explainer.backend.calls) - calls == 2 * 2
    m = again.eval_result_metrics
    assert m.n_requested == m.n_scored == 3 and m.n_failed_explanations == 0
    loaded = json.loads(next((tmp_path / "out" / "intervention").glob("*.json")).read_text())
    assert loaded["eval_result_metrics"]["target_kl"] == 0.5


def test_ablation_mode_and_dry_run(
    explainer: OutputExplainer, tmp_path: Path, corpus_file: Path
) -> None:
    cfg = _config(tmp_path, corpus_file, steering={"mode": "ablate", "prompt_len": 12})
    (plan,) = plan_per_sae(DEFINITION, cfg, saes=SAE)
    assert plan.calls == 2 * 3 * 2 and explainer.backend.calls == []
    (out,) = run_eval(cfg, saes=SAE)
    for r in out.eval_result_details:
        assert r.strength.delta == 0.0 and r.strength.kl >= 0.0


def test_evals_all_runs_intervention_whole_with_its_config_file(
    explainer: OutputExplainer, tmp_path: Path, corpus_file: Path
) -> None:
    from sae_interp.evals.all import AllEvalConfig
    from sae_interp.evals.all import run_eval as run_all
    from sae_interp.evals.all.main import DEFINITION as ALL

    alone = _config(tmp_path, corpus_file, random_sae_control=False)
    own = {k: alone.model_dump(mode="json")[k] for k in ("steering", "explainer", "scoring_lm")}
    own["random_sae_control"] = False
    (tmp_path / "intervention.json").write_text(json.dumps(own))
    shared = alone.model_dump(include={"model", "saes", "corpus", "n_tokens", "ctx_len", "device"})
    cfg = AllEvalConfig.model_validate(
        shared
        | {
            "output_dir": tmp_path / "all",
            "n_latents": 3,
            "sampling": alone.sampling.model_dump(),
            "llm": alone.llm.model_dump(),
            "evals": ["intervention"],
            "eval_config_files": [f"intervention={tmp_path / 'intervention.json'}"],
        }
    )
    sub = cfg.whole_config("intervention")
    assert sub.steering == alone.steering and sub.n_latents == 3 and not sub.random_sae_control
    (plan,) = plan_per_sae(ALL, cfg, saes=SAE)
    assert plan.calls == 2 * 3 and explainer.backend.calls == []  # 2 explanations per latent
    (combined,) = run_all(cfg, saes=SAE)
    (reference,) = run_eval(alone, saes=SAE)
    pooled = combined.eval_result_metrics.model_dump()["intervention"]
    assert pooled["intervention"] == reference.eval_result_metrics.intervention.model_dump()
    assert pooled["n_scored"] == 3
    assert len(list((tmp_path / "all" / "intervention").glob("*.json"))) == 1  # its own output
    with pytest.raises(ValueError, match="NAME=FILE"):
        AllEvalConfig.model_validate(shared | {"eval_config_files": ["fuzzing=x.json"]})
    with pytest.raises(ValueError, match="no such file"):
        AllEvalConfig.model_validate(shared | {"eval_config_files": ["agentic=missing.json"]})
