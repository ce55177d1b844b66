"""The known-answer suite on a planted SAE of the tiny model, with a judge that knows the
token sets: given the correct explanations it must separate planted latents from the
shuffled control and from decoys; the scripted explainer names every planted set."""

from pathlib import Path

import pytest

from sae_interp.saes.planted_sets import TOKEN_SETS
from sae_interp.testing import TINY_MODEL_SPEC
from sae_interp.testing.set_judge import SetJudge, register_set_judge, tiny_planted_sae
from sae_interp.validity import ValidityConfig, run_suite
from sae_interp.validity.report import explainer_quality, markdown_table, scorer_rows


@pytest.fixture
def set_judge() -> SetJudge:
    return register_set_judge()


def test_scorer_rows_hand_computed() -> None:
    rows = [
        {"latent": 0, "metrics": {"auroc": 0.9}, "control_metrics": {"auroc": 0.5}},
        {"latent": 1, "metrics": {"auroc": 0.8}, "control_metrics": {"auroc": 0.4}},
        {
            "latent": 2,
            "metrics": {"auroc": 0.7},
            "control_metrics": {"auroc": 0.7},
            "same_control": True,  # left out of the control
        },
        {"latent": 3, "metrics": {"auroc": 0.5}, "control_metrics": {"auroc": 0.6}},
        {"latent": 4, "metrics": {"auroc": 0.6}, "control_metrics": None},
    ]
    (row,) = scorer_rows("given", "embedding", rows, [0, 1, 2], [3, 4], seed=0)
    assert row.planted.value == pytest.approx(0.8) and row.planted.n == 3
    assert row.decoys.value == pytest.approx(0.55) and row.control.n == 2
    assert row.control.value == pytest.approx(0.45)
    assert (row.planted_minus_control.lo, row.planted_minus_control.hi) == pytest.approx((0.4, 0.4))
    assert row.separates_control and row.separates_decoys
    assert "| given | embedding | auroc | 0.80 [" in markdown_table([row])


def test_simulation_is_reported_on_its_correlations() -> None:
    rows = [
        {"latent": 0, "metrics": {"correlation": 0.6, "per_window_correlation": 0.5}},
        {"latent": 1, "metrics": {"correlation": 0.2, "per_window_correlation": None}},
    ]
    got = scorer_rows("given", "simulation", rows, [0], [1], seed=0)
    assert [r.metric for r in got] == ["correlation", "per_window_correlation"]
    assert got[0].planted_minus_decoys.value == pytest.approx(0.4)
    assert got[1].decoys.value is None and got[1].decoys.n_undefined == 1


def test_explainer_quality() -> None:
    sets = {0: TOKEN_SETS["numbers"], 1: TOKEN_SETS["colours"]}
    q = explainer_quality({0: "digits in prices", 1: "nouns"}, sets)
    assert q.n_named == 1 and q.fraction == 0.5 and q.named == {0: True, 1: False}


def test_suite_on_tiny_planted_sae(
    set_judge, tiny_model, tmp_path: Path, corpus_file: Path
) -> None:
    sae = tiny_planted_sae(tiny_model)
    cfg = ValidityConfig.model_validate(
        {
            "model": TINY_MODEL_SPEC,
            "corpus": str(corpus_file),
            "n_tokens": 2048,
            "ctx_len": 33,
            "device": "cpu",
            "output_dir": tmp_path,
            "evals": ["autointerp", "fuzzing"],
            "detection": {"mode": "per_example"},
            "fuzzing": {"mode": "per_example"},
            "sampling": {
                "window_len": 4,
                "n_train": 6,
                "n_test": 6,
                "n_negatives": 6,
                "min_activating": 4,
            },
            "llm": {"backend": "set-judge", "cache": False},
        }
    )
    (report,) = run_suite(cfg, model=tiny_model, saes={"planted": sae})
    assert report.planted == {0: "numbers", 1: "colours", 2: "closing_brackets"}
    assert report.decoys == [3, 4, 5]
    rows = {(r.source, r.eval, r.metric): r for r in report.rows}
    given = rows[("given", "autointerp", "auroc")]
    assert given.planted.value == 1.0 and given.planted.n == 3
    assert given.separates_control and given.separates_decoys
    fuzzed = rows[("given", "fuzzing", "auroc")]
    assert fuzzed.planted.value == 1.0 and fuzzed.separates_control
    assert rows[("none", "intruder", "accuracy")].planted.value == 1.0
    ib = report.intruder_bias
    assert ib is not None and ib.n_answered > 0
    assert sum(ib.answered_by_position) == pytest.approx(1.0) == sum(ib.truth_by_position)
    assert ib.demo_answer == 3
    assert report.explainer is not None and report.explainer.fraction == 1.0
    bias = {(b.source, b.eval): b for b in report.bias}
    assert bias[("given", "autointerp")].agreement_real_vs_shuffled < 1.0
    assert (tmp_path / "validity" / "planted.json").exists()
