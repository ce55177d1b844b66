"""Prompts of the one-shot explainer. Exact strings are tested; change them deliberately."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

EXPLANATION_TAG = "[EXPLANATION]:"

SYSTEM = (
    "You study one latent (a learned feature) of a language model. You are shown text "
    "excerpts in which the latent is active. Tokens where it is strongly active are marked "
    "<<like this>>. Work out what the marked tokens have in common: a word, a kind of token, "
    "a pattern, or a concept. Prefer a specific description of the marked tokens over the "
    "general topic of the excerpts. Think briefly, then finish with one line of the form\n"
    f"{EXPLANATION_TAG} <a short phrase or sentence>"
)


@dataclass(frozen=True)
class PromptExample:
    """One example as the explainer's prompt shows it."""

    text: str  # with <<highlights>>
    activations: Sequence[tuple[str, int]] = ()  # (token, normalised activation) if shown


def user_message(top_tokens: Sequence[tuple[str, int]], examples: Sequence[PromptExample]) -> str:
    lines = []
    if top_tokens:
        listed = ", ".join(f'"{tok}" ({count})' for tok, count in top_tokens)
        lines.append(f"Tokens where the latent peaks, with counts: {listed}")
        lines.append("")
    for i, example in enumerate(examples, 1):
        lines.append(f"Example {i}: {example.text}")
        if example.activations:
            shown = ", ".join(f'"{tok}" {act}' for tok, act in example.activations)
            lines.append(f"Activations (0-10): {shown}")
    return "\n".join(lines)


DEMOS: tuple[tuple[str, str], ...] = (
    (
        user_message(
            [("Monday", 3), ("Friday", 2), ("weekend", 1)],
            [
                PromptExample("The store is closed on <<Monday>> and opens again on Tuesday."),
                PromptExample("We met every <<Friday>> after work."),
                PromptExample("Her flight lands late on <<Monday>> night."),
            ],
        ),
        "The marked tokens are days of the week, mostly Monday and Friday.\n"
        f"{EXPLANATION_TAG} days of the week",
    ),
    (
        user_message(
            [(")", 3)],
            [
                PromptExample("print(len(items<<)>>)"),
                PromptExample("the result (see Table 2<<)>> was"),
                PromptExample("if (x > 0<<)>> {"),
            ],
        ),
        "Each marked token closes a parenthesis, in code and in prose.\n"
        f"{EXPLANATION_TAG} closing parentheses",
    ),
)


def parse_explanation(text: str) -> str | None:
    """The text after the last explanation tag, or None when there is none or it is empty."""
    matches = list(re.finditer(re.escape(EXPLANATION_TAG), text, flags=re.IGNORECASE))
    if not matches:
        return None
    answer = text[matches[-1].end() :].strip().splitlines()
    explanation = answer[0].strip().strip('"').strip() if answer else ""
    return explanation or None
