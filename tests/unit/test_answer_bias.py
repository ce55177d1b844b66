"""Answer-bias measures on hand-computed cases."""

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


def test_position_rates_count_named_positions() -> None:
    from sae_interp.scorers.answer_bias import position_rates

    # None and the out-of-range 7 are not counted
    assert position_rates([3, 3, 1, None, 7], 5) == pytest.approx([1 / 3, 0.0, 2 / 3, 0.0, 0.0])
    assert all(math.isnan(x) for x in position_rates([None], 3))
