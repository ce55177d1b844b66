import contextlib
import json
from pathlib import Path

import pytest
from helpers import Judge, autointerp_config

from sae_interp.evals.autointerp import run_eval
from sae_interp.llm.settings import LLM_BACKENDS
from sae_interp.testing import TINY_MODEL_SPEC, make_tiny_sae


@pytest.fixture
def judge() -> Judge:
    judge = Judge()
    LLM_BACKENDS.register("test-judge", lambda settings, stack: judge.backend, overwrite=True)
    return judge


def test_all_ones_judge_scores_exactly_chance(
    judge: Judge, tmp_path: Path, corpus_file: Path
) -> None:
    sae = make_tiny_sae(d_sae=32, k=4)
    (out,) = run_eval(autointerp_config(tmp_path, corpus_file), saes={"tiny": sae})
    m = out.eval_result_metrics
    assert m.n_requested == 4 and m.detection.n_latents == 4
    d = m.detection
    assert d.balanced_accuracy.value == 0.5 and d.recall.value == 1.0  # TPR 1, TNR 0
    assert d.precision.value == 0.5  # 4 activating + 4 negatives
    # every latent scores exactly 0.5: a zero-width interval
    assert d.balanced_accuracy.lo == d.balanced_accuracy.hi == 0.5
    assert m.shuffled_control is not None and m.shuffled_control.balanced_accuracy.value == 0.5
    assert m.real_minus_shuffled_control.balanced_accuracy.value == 0.0
    assert m.random_sae_control is None and m.reseed is None
    for latent in out.eval_result_details:
        assert latent.explanation and latent.explanation.startswith("the token")
        assert latent.control_explanation_of not in (None, latent.latent)
        assert latent.outcome is not None and len(latent.outcome.examples) == 8
    assert m.llm_usage["calls"] == 4 + 4 * 2 * 2  # explanations + (real + control) x 2 batches
    jsonl = next((tmp_path / "out" / "autointerp").rglob("latents_*.jsonl"))
    assert len(jsonl.read_text().splitlines()) == 4
    assert (
        len(next((tmp_path / "out" / "explanations").rglob("*.jsonl")).read_text().splitlines())
        == 4
    )


def test_resume_pays_only_for_unfinished_latents(
    judge: Judge, tmp_path: Path, corpus_file: Path
) -> None:
    sae = make_tiny_sae(d_sae=32, k=4)
    cfg = autointerp_config(tmp_path, corpus_file)
    run_eval(cfg, saes={"tiny": sae})
    result = next((tmp_path / "out" / "autointerp").glob("*.json"))
    jsonl = next((tmp_path / "out" / "autointerp").rglob("latents_*.jsonl"))
    lines = jsonl.read_text().splitlines()
    result.unlink()  # as if killed after three latents were written
    jsonl.write_text("\n".join(lines[:3]) + "\n")
    calls_before = len(judge.backend.calls)
    (out,) = run_eval(cfg, saes={"tiny": sae})
    assert len(judge.backend.calls) - calls_before == 2 * 2  # one latent: real + control, 2 batches
    assert out.eval_result_metrics.detection.n_latents == 4


def test_failures_are_recorded_and_counted(tmp_path: Path, corpus_file: Path) -> None:
    from sae_interp.base.errors import AllLLMWorkFailedError
    from sae_interp.evals.autointerp import AutoInterpEvalOutput

    judge = Judge(broken_explanations=1, garbage_every=3)
    LLM_BACKENDS.register("test-judge", lambda settings, stack: judge.backend, overwrite=True)
    llm = {"backend": "test-judge", "cache": False, "invalid_retries": 0}
    # the result file is written before the run says that no latent is left scored
    with contextlib.suppress(AllLLMWorkFailedError):
        run_eval(
            autointerp_config(tmp_path, corpus_file, llm=llm),
            saes={"tiny": make_tiny_sae(d_sae=32, k=4)},
        )
    out = AutoInterpEvalOutput.load(next((tmp_path / "out" / "autointerp").glob("*.json")))
    m = out.eval_result_metrics
    assert m.n_failed_explanations == 1
    failed = [d for d in out.eval_result_details if d.status == "explanation_failed"]
    assert (
        len(failed) == 1
        and failed[0].metrics is None
        and failed[0].error_kind == "unparseable_answer"
        and "EXPLANATION" in (failed[0].explanation_error or "")
    )
    # a latent with a failed scoring call is unfinished: counted, not pooled, not stored
    unscored = [d for d in out.eval_result_details if d.status == "scoring_failed"]
    assert unscored and all("503" in (d.scoring_error or "") for d in unscored)
    assert all(d.metrics is None and d.error_kind == "other" for d in unscored)
    assert m.n_failed_scoring == len(unscored)
    scored = [d for d in out.eval_result_details if d.status == "ok"]
    assert len(scored) == 3 - len(unscored) == (m.detection.n_latents if m.detection else 0)
    assert out.failures == {"other": len(unscored), "unparseable_answer": 1} == m.failures


def test_output_json_round_trips(judge: Judge, tmp_path: Path, corpus_file: Path) -> None:
    from sae_interp.evals.autointerp import AutoInterpEvalOutput

    run_eval(autointerp_config(tmp_path, corpus_file), saes={"tiny": make_tiny_sae(d_sae=32, k=4)})
    path = next((tmp_path / "out" / "autointerp").glob("*.json"))
    loaded = AutoInterpEvalOutput.model_validate_json(path.read_text())
    assert loaded.eval_config.llm.backend == "test-judge"
    assert "api_key" not in json.dumps(json.loads(path.read_text())["eval_config"]["llm"]).replace(
        "api_key_env", ""
    )


def test_dry_run_plans_exactly_the_calls_a_run_makes(
    judge: Judge, tmp_path: Path, corpus_file: Path, capsys
) -> None:
    from sae_interp.evals.autointerp.main import DEFINITION
    from sae_interp.framework.runner import plan_per_sae

    sae = make_tiny_sae(d_sae=32, k=4)
    cfg = autointerp_config(tmp_path, corpus_file)
    (plan,) = plan_per_sae(DEFINITION, cfg, saes={"tiny": sae})
    assert judge.backend.calls == [] and not list((tmp_path / "out").rglob("*.json"))
    assert (
        plan.prompt_tokens > 0
        and plan.max_completion_tokens > 0
        and plan.estimated_cost_usd is None
    )
    (out,) = run_eval(cfg, saes={"tiny": sae})
    assert plan.calls == len(judge.backend.calls) == out.eval_result_metrics.llm_usage["calls"]
    # the first plan says it ran the model (to choose latents and size prompts) and that
    # the run reuses that pass; the second plan needs no model pass at all
    assert "activations of 2048 tokens were collected" in plan.notes
    (again,) = plan_per_sae(DEFINITION, cfg, saes={"tiny": sae})
    assert again.calls == 0 and "4 stored explanations" in again.notes
    assert "(no model pass)" in again.notes and "were collected" not in again.notes


def test_dry_run_from_the_command_line(
    judge: Judge, tmp_path: Path, corpus_file: Path, capsys
) -> None:
    from sae_interp.cli import main

    argv = [
        "autointerp",
        "--model",
        TINY_MODEL_SPEC,
        "--saes",
        "identity:blocks.0.hook_resid_post",
        "--corpus",
        str(corpus_file),
        "--n-tokens",
        "1024",
        "--ctx-len",
        "33",
        "--device",
        "cpu",
        "--output-dir",
        str(tmp_path / "o"),
        "--n-latents",
        "2",
        "--sampling-window-len",
        "8",
        "--sampling-min-activating",
        "2",
        "--llm-backend",
        "test-judge",
        "--dry-run",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "calls" in out and "prompt_tokens" in out
    assert judge.backend.calls == []


def test_saebench_mode(judge: Judge, tmp_path: Path, corpus_file: Path) -> None:
    sampling = {"window_len": 8, "n_train": 4, "n_test": 6, "n_negatives": 10, "min_activating": 6}
    cfg = autointerp_config(
        tmp_path, corpus_file, sampling=sampling, detection={"mode": "saebench"}
    )
    (out,) = run_eval(cfg, saes={"tiny": make_tiny_sae(d_sae=32, k=4)})
    m = out.eval_result_metrics
    assert m.detection is None and m.saebench is not None
    assert m.saebench.accuracy.value == pytest.approx(4 / 14)  # all 14 called active: 4 right
    assert m.shuffled_control is not None
    assert m.shuffled_control.accuracy.value == pytest.approx(4 / 14)
    detail = next(d for d in out.eval_result_details if d.outcome is not None)
    assert len(detail.outcome.labels) == 14 and sum(detail.outcome.labels) == 4


def test_saes_at_one_hook_are_collected_in_one_pass(
    tmp_path: Path, corpus_file: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sae_interp.activations import collect as collect_module

    judge = Judge()
    LLM_BACKENDS.register("test-judge", lambda settings, stack: judge.backend, overwrite=True)
    real = collect_module.activations_at_hook
    forwards: list[int] = []
    monkeypatch.setattr(
        collect_module, "activations_at_hook", lambda m, b, h: forwards.append(1) or real(m, b, h)
    )
    saes = {name: make_tiny_sae(d_sae=32, k=4, seed=i) for i, name in enumerate(("a", "b"))}
    (alone,) = run_eval(autointerp_config(tmp_path / "alone", corpus_file, saes=["b"]), saes=saes)
    one_sae = len(forwards)
    forwards.clear()
    monkeypatch.setenv("SAE_INTERP_CACHE", str(tmp_path / "fresh_cache"))  # nothing collected
    outputs = run_eval(autointerp_config(tmp_path, corpus_file, saes=["a", "b"]), saes=saes)
    assert one_sae > 0 and len(forwards) == one_sae  # both SAEs from one pass, not one each
    assert [o.provenance.sae_spec for o in outputs] == ["a", "b"]
    assert alone.eval_result_details == outputs[1].eval_result_details
