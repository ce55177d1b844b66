"""Prompts of the output-side explainer (intervention eval). Exact strings are tested;
change them deliberately."""

from __future__ import annotations

from collections.abc import Sequence

from sae_interp.explainers.one_shot_prompts import EXPLANATION_TAG

SYSTEM = (
    "You study one latent (a learned feature) of a language model by amplifying it and "
    "watching the model's next-token predictions. For each text below you see the tokens "
    "whose probability rose the most when the latent was amplified at the end of the text. "
    "Work out what the latent makes the model say: a word, a kind of token, a topic or a "
    "style. Describe its effect on the output, not the input texts. Think briefly, then "
    f"finish with one line of the form\n{EXPLANATION_TAG} <a short phrase>"
)


def user_message(examples: Sequence[tuple[str, Sequence[str]]]) -> str:
    lines = []
    for i, (text, tokens) in enumerate(examples, 1):
        shown = ", ".join(f'"{t}"' for t in tokens)
        lines += [f"Text {i}: {text}", f"Rose most: {shown}", ""]
    return "\n".join(lines).rstrip()


DEMOS: tuple[tuple[str, str], ...] = (
    (
        user_message(
            [
                (
                    "We packed our bags and drove to the",
                    ["beach", "coast", "sea", "shore", "ocean"],
                ),
                (
                    "After lunch the children ran down to the",
                    ["water", "waves", "beach", "sand", "pier"],
                ),
            ]
        ),
        "Both lists are about the seaside.\n"
        f"{EXPLANATION_TAG} the seaside: beach, sea, waves, shore",
    ),
)
