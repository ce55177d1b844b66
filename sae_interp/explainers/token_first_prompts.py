"""Prompts of the one-shot explainer's token-first style (for small local LLMs): the exact
tokens that fire, with counts, come first; then short contexts around each window's peak.
Exact strings are tested; change them deliberately."""

from __future__ import annotations

from collections.abc import Sequence

from sae_interp.explainers.one_shot_prompts import EXPLANATION_TAG

SYSTEM = (
    "You study one latent (a learned feature) of a language model. You get the tokens on "
    "which it fires, with how often each fired, and short contexts in which the firing "
    "token is marked <<like this>>. Say what the firing tokens have in common: name the "
    "kind of token (for example digits, a word class, a punctuation mark, a closed list of "
    "words) before any topic. Think briefly, then finish with one line of the form\n"
    f"{EXPLANATION_TAG} <a short phrase>"
)


def user_message(counts: Sequence[tuple[str, int]], contexts: Sequence[str]) -> str:
    listed = ", ".join(f'"{tok}" ({n})' for tok, n in counts)
    lines = [f"Firing tokens, with counts: {listed}", "", "Contexts:"]
    lines += [f"{i}. {text}" for i, text in enumerate(contexts, 1)]
    return "\n".join(lines)


DEMOS: tuple[tuple[str, str], ...] = (
    (
        user_message(
            [("Monday", 3), ("Friday", 2), ("Sunday", 1)],
            [
                "store is closed on <<Monday>> and opens",
                "We met every <<Friday>> after work",
                "flight lands late on <<Sunday>> night.",
            ],
        ),
        f"The firing tokens are all names of days.\n{EXPLANATION_TAG} days of the week",
    ),
    (
        user_message(
            [(")", 4), ("),", 1)],
            [
                "print(len(items<<)>>)",
                "(see Table 2<<),>> was",
                "if (x > 0<<)>> {",
            ],
        ),
        f"Every firing token closes a parenthesis.\n{EXPLANATION_TAG} closing parentheses",
    ),
)
