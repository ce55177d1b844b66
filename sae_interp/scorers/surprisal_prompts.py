"""The few-shot prefix of the surprisal scorer. Exact strings are tested; change them
deliberately (scores are only comparable under the same prefix)."""

from __future__ import annotations

CONTROL_DESCRIPTION = "Various unrelated sentences."

INTRO = (
    "Each description below says what a group of sentences has in common, and is followed "
    "by sentences of that group.\n\n"
)

DEMOS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Numbers written as words, especially counts of objects.",
        (
            "She bought three apples and two pears at the market.",
            "The team won by seven points after a long season.",
        ),
    ),
    (
        "Words about rain and wet weather.",
        (
            "The storm left puddles all over the parking lot.",
            "Bring an umbrella; the forecast says showers all afternoon.",
        ),
    ),
)


def prefix(description: str) -> str:
    """Intro, demos, then ``Description: {description}\\nSentences:\\n`` (the scored text
    follows directly)."""
    parts = [INTRO]
    for demo, sentences in DEMOS:
        parts.append(f"Description: {demo}\nSentences:\n" + "\n".join(sentences) + "\n\n")
    parts.append(f"Description: {description}\nSentences:\n")
    return "".join(parts)
