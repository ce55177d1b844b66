"""Prompts of per-example judging (one excerpt per request, answered Yes or No), for
detection and fuzzing. Exact strings are tested; change them deliberately.

The two few-shot pairs hold one Yes and one No, so copying a demo answer shows up as a
positive rate far from the true one rather than as a score."""

from __future__ import annotations

from dataclasses import dataclass

YES, NO = "Yes", "No"


@dataclass(frozen=True)
class PerExamplePrompts:
    system: str
    question: str
    demos: tuple[tuple[str, str, str], ...]  # (explanation, excerpt, answer)

    def user_message(self, explanation: str, excerpt: str) -> str:
        return f"Explanation: {explanation}\nExcerpt: {excerpt}\n{self.question}"


DETECTION = PerExamplePrompts(
    system=(
        "You check explanations of latents (learned features) of a language model. You get an "
        "explanation and one text excerpt. Answer Yes if the excerpt contains what the "
        "explanation describes, No if it does not. Reply with only Yes or No."
    ),
    question="Does the excerpt contain what the explanation describes?",
    demos=(
        ("days of the week", "The meeting moved to Thursday afternoon.", YES),
        ("days of the week", "She bought three apples and a pear.", NO),
    ),
)

FUZZING = PerExamplePrompts(
    system=(
        "You check explanations of latents (learned features) of a language model. You get an "
        "explanation and one text excerpt in which some tokens are marked like <<this>>. "
        "Answer Yes if the marked tokens are what the explanation describes, No if they are "
        "not. Reply with only Yes or No."
    ),
    question="Are the marked tokens what the explanation describes?",
    demos=(
        ("days of the week", "The meeting moved to <<Thursday>> afternoon.", YES),
        ("days of the week", "Shops stay <<closed>> on Sunday in this town.", NO),
    ),
)
