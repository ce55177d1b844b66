"""Prompts of the contrastive explainer: the latent's activating excerpts next to similar
excerpts where it stays silent. Exact strings are tested; change them deliberately."""

from __future__ import annotations

from collections.abc import Sequence

from sae_interp.explainers.one_shot_prompts import EXPLANATION_TAG, PromptExample

SYSTEM = (
    "You study one latent (a learned feature) of a language model. You are shown two sets "
    "of text excerpts. In the first set the latent is active; tokens where it is strongly "
    "active are marked <<like this>>. The second set holds similar excerpts in which the "
    "latent is not active at all. Work out what the marked tokens have that the second set "
    "lacks: a word, a kind of token, a pattern, or a concept. A description that also fits "
    "the second set is wrong. Think briefly, then finish with one line of the form\n"
    f"{EXPLANATION_TAG} <a short phrase or sentence>"
)


def user_message(
    top_tokens: Sequence[tuple[str, int]],
    examples: Sequence[PromptExample],
    contrasts: Sequence[str],
) -> str:
    lines = []
    if top_tokens:
        listed = ", ".join(f'"{tok}" ({count})' for tok, count in top_tokens)
        lines.append(f"Tokens where the latent peaks, with counts: {listed}")
        lines.append("")
    lines.append("Active:")
    for i, example in enumerate(examples, 1):
        lines.append(f"Example {i}: {example.text}")
    lines.append("")
    lines.append("Not active:")
    for i, text in enumerate(contrasts, 1):
        lines.append(f"Contrast {i}: {text}")
    return "\n".join(lines)


DEMOS: tuple[tuple[str, str], ...] = (
    (
        user_message(
            [("Monday", 2), ("Friday", 1)],
            [
                PromptExample("The store is closed on <<Monday>> and opens again at noon."),
                PromptExample("We met every <<Friday>> after work."),
                PromptExample("Her flight lands late on <<Monday>> night."),
            ],
            [
                "The store is closed in winter and opens again in spring.",
                "We met every month after work.",
                "Her flight lands late at night.",
            ],
        ),
        "Both sets talk about times, but only days of the week are marked; months, seasons "
        f"and times of day are not.\n{EXPLANATION_TAG} days of the week",
    ),
    (
        user_message(
            [(")", 3)],
            [
                PromptExample("print(len(items<<)>>)"),
                PromptExample("the result (see Table 2<<)>> was"),
                PromptExample("if (x > 0<<)>> {"),
            ],
            ["print(len(items", "the result, see Table 2, was", "if x > 0: {"],
        ),
        "The contrasts hold the same code and prose without a closing bracket; the marked "
        f"tokens all close a parenthesis.\n{EXPLANATION_TAG} closing parentheses",
    ),
)
