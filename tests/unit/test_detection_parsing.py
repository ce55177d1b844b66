import math

import pytest

from sae_interp.llm.types import LLMResponse, TokenLogprob
from sae_interp.scorers.detection_prompts import DEMOS, SYSTEM, user_message
from sae_interp.scorers.judge import label_probabilities, parse_labels


def test_user_message_exact() -> None:
    assert user_message("colours", ["a red car", "the sky"]) == (
        "Explanation: colours\n\nExcerpt 1: a red car\nExcerpt 2: the sky\n\n"
        "Reply with a list of 2 numbers (1 or 0)."
    )
    assert SYSTEM.endswith("[1, 0, 0, 1]")
    assert parse_labels(DEMOS[0][1], 3) == [1, 0, 1]


@pytest.mark.parametrize(
    ("text", "n", "expected"),
    [
        ("[1, 0, 1]", 3, [1, 0, 1]),
        ("Sure! The answer is [0,0,1,1]", 4, [0, 0, 1, 1]),
        ("first [1, 1] then corrected: [0, 1]", 2, [0, 1]),
        ("[1, 0]", 3, None),  # wrong length is a parse failure
        ("1, 0, 1", 3, None),
        ("[yes, no]", 2, None),
        ("[1, 2, 0]", 3, None),
        ("", 1, None),
    ],
)
def test_parse_labels(text: str, n: int, expected: list[int] | None) -> None:
    assert parse_labels(text, n) == expected


def _tok(token: str, logprob: float, **top: float) -> TokenLogprob:
    return TokenLogprob(token=token, logprob=logprob, top=top)


def test_label_probabilities() -> None:
    logprobs = [
        _tok("[", 0.0),
        _tok("1", math.log(0.8), **{"1": math.log(0.8), "0": math.log(0.2)}),
        _tok(",", 0.0),
        _tok(" 0", math.log(0.6), **{" 0": math.log(0.6), " 1": math.log(0.3), "x": -1.0}),
        _tok("]", 0.0),
    ]
    probs = label_probabilities(LLMResponse(text="[1, 0]", logprobs=logprobs), 2)
    assert probs == pytest.approx([0.8, 1 / 3])
    assert label_probabilities(LLMResponse(text="[1, 0]", logprobs=logprobs), 3) is None
    assert label_probabilities(LLMResponse(text="[1]"), 1) is None
    only_chosen = [_tok("1", -0.1)]  # no alternatives listed: certainty of the chosen label
    assert label_probabilities(LLMResponse(text="[1]", logprobs=only_chosen), 1) == [1.0]
