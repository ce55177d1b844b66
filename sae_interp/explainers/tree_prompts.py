"""Prompts of the tree explainer's revision step. Exact strings are tested; change them
deliberately."""

from __future__ import annotations

from collections.abc import Sequence

from sae_interp.explainers.one_shot_prompts import EXPLANATION_TAG
from sae_interp.text.formatting import display_token

SYSTEM = (
    "You improve explanations of a latent (a learned feature) of a language model. A "
    "simulator read the explanation and predicted the latent's activation (0-10) on every "
    "token of some excerpts; the score is the correlation of its predictions with the true "
    "activations (1 is perfect). You see the excerpt where the explanation fails most, with "
    "the predicted and the true activation of each token. Write a better explanation: fix "
    "what it misses or wrongly includes, keep what works, stay short. Think briefly, then "
    f"finish with one line of the form\n{EXPLANATION_TAG} <a short phrase or sentence>"
)


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
