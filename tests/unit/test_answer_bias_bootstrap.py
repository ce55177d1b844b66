"""Answer-bias measures and bootstrap intervals on hand-computed cases."""

import math

import pytest

from sae_interp.scorers.answer_bias import (
    answer_agreement,
    demo_prefix_rate,
    positive_rate,
    positive_rate_by_slot,
    truth_prefix_rate,
)
from sae_interp.scorers.judge import JudgeOutcome, ShownExample
from sae_interp.utils.bootstrap import bootstrap_diff_ci, bootstrap_mean_ci, excludes_zero


def _outcome(labels, predictions, raw=()):
    return JudgeOutcome(
        latent=0,
        explanation="x",
        examples=[ShownExample(seq=i, start=1, label=y) for i, y in enumerate(labels)],
        predictions=list(predictions),
        probabilities=[None] * len(labels),
        raw_answers=list(raw),
        batch_errors=[None] * max(1, len(raw)),
    )


def test_positive_rate_by_slot_and_overall() -> None:
    # batches of 3: [1, 0, 1], [1, 0, None], [1]
    o = _outcome([1, 0, 0, 1, 1, 0, 1], [1, 0, 1, 1, 0, None, 1])
    assert positive_rate_by_slot([o], 3) == [1.0, 0.0, 1.0]
    assert positive_rate([o]) == pytest.approx(4 / 6)


def test_demo_prefix_rates() -> None:
    raw = ["[1, 0, 0]", "[1, 0, 1, 1]", "[0, 1, 1]", "nonsense", None, "[1]"]
    assert demo_prefix_rate(raw, "[1, 0, 1]") == pytest.approx(2 / 3)  # "[1]" too short
    o = _outcome([1, 0, 1, 0, 0, 1], [None] * 6)
    # true batches of 3: [1, 0, 1] and [0, 0, 1]
    assert truth_prefix_rate([o], "[1, 0, 1]", per_prompt=3) == 0.5


def test_answer_agreement_matches_examples_by_identity() -> None:
    real = _outcome([1, 0, 1, 0], [1, 0, 1, None])
    control = _outcome([1, 0, 1, 0], [1, 1, 1, 0])
    assert answer_agreement([(real, control)]) == pytest.approx(2 / 3)
    assert math.isnan(answer_agreement([]))


def test_bootstrap_intervals() -> None:
    lo, hi = bootstrap_mean_ci([0.5] * 10)
    assert lo == hi == 0.5
    lo, hi = bootstrap_mean_ci([0.0, 1.0] * 20, seed=1)
    assert 0.3 < lo < 0.5 < hi < 0.7
    assert bootstrap_mean_ci([0.0, 1.0] * 20, seed=1) == (lo, hi)  # seeded
    assert all(math.isnan(v) for v in bootstrap_mean_ci([math.nan]))
    paired = bootstrap_diff_ci([0.9, 0.8, 0.95, 0.85], [0.5, 0.55, 0.45, 0.5], paired=True)
    assert excludes_zero(paired) and paired[0] > 0.25
    same = bootstrap_diff_ci([0.4, 0.6] * 10, [0.6, 0.4] * 10, paired=False)
    assert not excludes_zero(same)
    with pytest.raises(ValueError, match="differ in length"):
        bootstrap_diff_ci([1.0], [1.0, 2.0], paired=True)
