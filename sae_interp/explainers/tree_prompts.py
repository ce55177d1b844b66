"""Prompts of the tree explainer's revision step. Exact strings are tested; change them
deliberately."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sae_interp.explainers.one_shot_prompts import EXPLANATION_TAG, parse_explanation
from sae_interp.text.formatting import display_token

CRITIQUE_TAG = "[CRITIQUE]:"

SYSTEM = (
    "You improve explanations of a latent (a learned feature) of a language model. A "
    "simulator read the explanation and predicted the latent's activation (0-10) on every "
    "token of some excerpts; the score is the correlation of its predictions with the true "
    "activations (1 is perfect). You see the excerpt where the explanation fails most, with "
    "the predicted and the true activation of each token. Answer with two lines. First "
    f"{CRITIQUE_TAG} what the explanation misses or wrongly includes. Then "
    f"{EXPLANATION_TAG} the new explanation: a short phrase or sentence naming the text the "
    "latent responds to, like the explanation you were given; it never mentions the old "
    "explanation, the simulator or the score."
)

DEMO_ANSWER = (
    f"{CRITIQUE_TAG} It predicts the weather word, but the latent fires on things worn or "
    "carried against rain, not on the rain itself.\n"
    f"{EXPLANATION_TAG} rain gear: umbrellas, raincoats, boots"
)

# an answer that comments on the old explanation instead of replacing it
_CRITIQUE = re.compile(
    r"\b(explanation|simulator|simulation|score)s?\b|^(the|this|it) (model|original)\b",
    flags=re.IGNORECASE,
)


def parse_root(text: str) -> tuple[str | None, str | None]:
    """(the explanation, None), or (None, why not) when the answer has no explanation line."""
    explanation = parse_explanation(text)
    return explanation, None if explanation else f"no '{EXPLANATION_TAG}' line in the answer"


def parse_revision(text: str) -> tuple[str | None, str | None]:
    """(the revised explanation, None), or (None, why it cannot be used): no
    explanation line, or one that critiques the old explanation rather than replacing it."""
    revised, error = parse_root(text)
    if revised is None:
        return None, error
    if _CRITIQUE.search(revised):
        return None, "the answer comments on the explanation instead of giving a new one"
    return revised, None


def user_message(
    explanation: str,
    score: float | None,
    tokens: Sequence[str],
    predicted: Sequence[float],
    true: Sequence[float],
) -> str:
    shown = "undefined (the predictions were constant)" if score is None else f"{score:.2f}"
    lines = [f"Explanation: {explanation}", f"Score: {shown}", "", "token\tpredicted\ttrue"]
    lines += [
        f"{display_token(t).replace(chr(9), ' ')}\t{p:.0f}\t{a:.0f}"
        for t, p, a in zip(tokens, predicted, true, strict=True)
    ]
    return "\n".join(lines)


# one worked revision, shown before the latent's own (its format is the user message's)
DEMO_USER = user_message(
    "words about weather",
    0.12,
    [" Take", " an", " umbrella", " because", " of", " the", " rain", " and", " boots"],
    [0, 0, 2, 0, 0, 0, 8, 0, 0],
    [0, 0, 9, 0, 0, 0, 1, 0, 7],
)
