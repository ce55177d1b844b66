"""The known token sets that planted latents detect, each with its correct explanation and a
keyword matcher that says whether another explanation names the same set.

A set is a predicate on a token's text (leading/trailing whitespace and the SentencePiece
word marker removed). Everything here is pure and deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

NUMBER_WORDS = frozenset(
    [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
        "hundred",
        "thousand",
        "million",
        "billion",
    ]
)
WEEKDAYS = frozenset(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])
MONTHS = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
)
COLOURS = frozenset(
    [
        "red",
        "blue",
        "green",
        "yellow",
        "black",
        "white",
        "brown",
        "grey",
        "gray",
        "orange",
        "purple",
        "pink",
        "violet",
        "scarlet",
        "crimson",
        "golden",
        "silver",
    ]
)
PRONOUNS = frozenset(
    ["i", "you", "he", "she", "it", "we", "they", "me", "him", "her", "us", "them"]
)
CLOSERS = frozenset(")]}")
TRAILING_PUNCTUATION = frozenset(".,;:!?'\"")


def _is_number(s: str) -> bool:
    return (s.isascii() and s.isdigit()) or s.lower() in NUMBER_WORDS


def _is_closing_bracket(s: str) -> bool:
    return (
        bool(s)
        and any(c in CLOSERS for c in s)
        and all(c in CLOSERS or c in TRAILING_PUNCTUATION for c in s)
    )


def _is_capitalised(s: str) -> bool:
    return len(s) >= 2 and s.isascii() and s.isalpha() and s[0].isupper() and not s.isupper()


@dataclass(frozen=True)
class TokenSet:
    name: str
    explanation: str  # the correct explanation, as a good explainer would write it
    keywords: str  # regex: an explanation naming this set matches it (case-insensitive)
    member: Callable[[str], bool]

    def names_this_set(self, explanation: str | None) -> bool:
        """Whether ``explanation`` names this token set (pure keyword match)."""
        return bool(explanation) and re.search(self.keywords, explanation or "", re.I) is not None


TOKEN_SETS: dict[str, TokenSet] = {
    s.name: s
    for s in (
        TokenSet(
            "numbers",
            "numbers: digits and number words",
            r"\bnumb|\bdigit|numer|\bfigure|\bcount",
            _is_number,
        ),
        TokenSet(
            "dates",
            "days of the week and names of months",
            r"\bday|\bweek|\bmonth|\bdate|calendar",
            lambda s: s.lower() in WEEKDAYS or s in {m.capitalize() for m in MONTHS},
        ),
        TokenSet("colours", "colour words", r"colou?r", lambda s: s.lower() in COLOURS),
        TokenSet(
            "closing_brackets",
            "closing brackets and parentheses",
            r"clos|bracket|parenthes|\bparen",
            _is_closing_bracket,
        ),
        TokenSet(
            "capitalised",
            "capitalised words",
            r"capital|upper.?case|proper noun|\bnames?\b",
            _is_capitalised,
        ),
        TokenSet("pronouns", "personal pronouns", r"pronoun", lambda s: s.lower() in PRONOUNS),
    )
}
DEFAULT_SETS: tuple[str, ...] = tuple(TOKEN_SETS)


def token_text(piece: str) -> str:
    """A vocabulary piece as plain text: SentencePiece's word marker and spaces removed."""
    return piece.replace("\u2581", " ").replace("\u0120", " ").strip()


def vocabulary_texts(tokenizer: Any) -> list[str]:
    """The plain text of every token id of ``tokenizer`` (index = id)."""
    size = len(tokenizer)
    pieces = tokenizer.convert_ids_to_tokens(list(range(size)))
    return [token_text(p) if isinstance(p, str) else "" for p in pieces]


def members(texts: Sequence[str], token_set: TokenSet) -> list[int]:
    """Token ids whose text belongs to ``token_set``."""
    return [i for i, text in enumerate(texts) if text and token_set.member(text)]
