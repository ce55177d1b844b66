"""Prompts of per-example judging (one excerpt per request), for detection and fuzzing.
Exact strings are tested; change them deliberately.

Both put the explanation first, so the requests of one latent share their prefix (a server
with prefix caching evaluates only the excerpt part of each). Their shape comes from the
known-answer suite (planted token-set latents, the offline 1.5B judge):

- detection asks which words of the excerpt match the explanation, answered with the words
  or "None"; P(match) = 1 - P("None") at the first answer token. Asked Yes/No instead, the
  same judge said Yes to nearly every excerpt and its P(Yes) ranked them no better than
  chance;
- fuzzing lists the marked words and asks whether all of them match. Asked about the marked
  excerpt as a whole, the judge said Yes to every one and ranked them below chance; shown
  each marked word with 24 characters of context it separated less well than with the
  words alone (on token-set latents, where context adds nothing; a judge that can use
  context is better asked with the batched prompt).

The demos hold as many matching as non-matching answers, so copying a demo shows up as a
positive rate far from the true one rather than as a score.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sae_interp.text.formatting import CLOSE, OPEN

YES, NO, NONE = "Yes", "No", "None"


@dataclass(frozen=True)
class PerExamplePrompts:
    """One kind of per-example question: its system prompt, demos (explanation, excerpt,
    answer), how one question is written, and which answer reader scores it
    (:data:`sae_interp.scorers.per_example.ANSWER_READERS`)."""

    system: str
    demos: tuple[tuple[str, str, str], ...]
    message: Callable[[str, str], str]
    answer: str

    def user_message(self, explanation: str, excerpt: str) -> str:
        return self.message(explanation, excerpt)


DETECTION_SYSTEM = (
    "You find the words of a text excerpt that match a description. Reply with the matching "
    f"words separated by commas, or {NONE} if no word matches."
)
DETECTION_DEMOS = (
    ("days of the week", "The meeting moved to Thursday afternoon.", "Thursday"),
    ("days of the week", "She bought three apples and a pear.", NONE),
    ("colour words", "She wore a red coat and blue shoes.", "red, blue"),
    ("colour words", "The train left the station at noon.", NONE),
)


def detection_message(explanation: str, excerpt: str) -> str:
    return (
        f"Description: {explanation}\nText: {excerpt}\n"
        "Which words of the text match the description?"
    )


_MARKED = re.compile(re.escape(OPEN) + "(.*?)" + re.escape(CLOSE), re.DOTALL)


def marked_words(excerpt: str) -> list[str]:
    """The marked spans of ``excerpt`` (``<<...>>``), stripped."""
    return [m.group(1).strip() for m in _MARKED.finditer(excerpt)]


FUZZING_SYSTEM = "You say whether words match a description. Reply with only Yes or No."
FUZZING_DEMOS = (
    ("days of the week", "The meeting moved to <<Thursday>> afternoon.", YES),
    ("days of the week", "Shops stay <<closed>> on Sunday in this town.", NO),
    ("colour words", "She wore a <<red>> coat and <<blue>> shoes.", YES),
    ("colour words", "The <<train>> left the station <<at>> noon.", NO),
)


def fuzzing_message(explanation: str, excerpt: str) -> str:
    words = ", ".join(f'"{word}"' for word in marked_words(excerpt))
    return (
        f"Description: {explanation}\nWords: {words}\nDo all of these words match the description?"
    )


DETECTION = PerExamplePrompts(DETECTION_SYSTEM, DETECTION_DEMOS, detection_message, "matches")
FUZZING = PerExamplePrompts(FUZZING_SYSTEM, FUZZING_DEMOS, fuzzing_message, "yes_no")
