"""Prompts of the intruder scorer. Exact strings are tested; change them deliberately."""

from __future__ import annotations

from collections.abc import Sequence

_TASK = (
    "You look at text excerpts. All of them but one share something: a word, a kind of "
    "token, a pattern or a topic. The other one is the intruder. "
)
SYSTEM_HIGHLIGHTED = (
    _TASK + "In each excerpt some tokens are marked like <<this>>: compare the marked tokens. "
    "Reply with only the number of the intruder."
)
SYSTEM_PLAIN = _TASK + "Reply with only the number of the intruder."


def user_message(excerpts: Sequence[str]) -> str:
    lines = [f"Excerpt {i}: {text}" for i, text in enumerate(excerpts, 1)]
    return "\n".join([*lines, "", "Which excerpt is the intruder? Reply with its number."])


DEMO_HIGHLIGHTED = (
    user_message(
        [
            "We met on <<Friday>> after work.",
            "The shop is closed on <<Monday>>.",
            "She paid <<twelve>> dollars for it.",
            "Every <<Sunday>> they walk by the river.",
        ]
    ),
    "3",
)
DEMO_PLAIN = (
    user_message(
        [
            "We met on Friday after work.",
            "The shop is closed on Monday.",
            "She paid twelve dollars for the blue one.",
            "Every Sunday they walk by the river.",
        ]
    ),
    "3",
)
