"""How windows are shown to LLMs: highlighted text, normalised activations, top tokens."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

HIGHLIGHT_FRACTION = 0.3
OPEN, CLOSE = "<<", ">>"
NEWLINE = "↵"


def display_token(token: str) -> str:
    return token.replace("\r\n", NEWLINE).replace("\n", NEWLINE)


def highlight_mask(
    activations: Sequence[float],
    fraction: float = HIGHLIGHT_FRACTION,
    reference_max: float | None = None,
) -> list[bool]:
    """Which tokens are highlighted: activation >= ``fraction`` of the window's max (or of
    ``reference_max``). Nothing is marked when the window is inactive."""
    peak = max(activations, default=0.0) if reference_max is None else reference_max
    return [peak > 0 and a > 0 and a >= fraction * peak for a in activations]


def marked_text(str_tokens: Sequence[str], marked: Sequence[bool]) -> str:
    """Join tokens, wrapping each run of marked tokens in ``<<...>>``."""
    parts: list[str] = []
    for i, token in enumerate(str_tokens):
        text = display_token(token)
        if marked[i] and (i == 0 or not marked[i - 1]):
            # keep a leading space outside the marker: "the <<cat>>", not "the<< cat>>"
            stripped = text.lstrip(" ")
            parts.append(text[: len(text) - len(stripped)] + OPEN + stripped)
        else:
            parts.append(text)
        if marked[i] and (i + 1 == len(str_tokens) or not marked[i + 1]):
            parts.append(CLOSE)
    return "".join(parts)


def highlighted_text(
    str_tokens: Sequence[str],
    activations: Sequence[float],
    fraction: float = HIGHLIGHT_FRACTION,
    reference_max: float | None = None,
) -> str:
    """The window's text with its activating tokens marked (see :func:`highlight_mask`)."""
    return marked_text(str_tokens, highlight_mask(activations, fraction, reference_max))


def plain_text(str_tokens: Sequence[str]) -> str:
    return "".join(display_token(t) for t in str_tokens)


def normalised_activations(activations: Sequence[float], max_activation: float) -> list[int]:
    """ceil(10 * a / max), clamped to 0..10 (0 for inactive tokens)."""
    if max_activation <= 0:
        return [0 for _ in activations]
    return [min(10, max(0, math.ceil(10 * a / max_activation))) for a in activations]


def top_firing_tokens(
    windows: Sequence[tuple[Sequence[str], Sequence[float]]], k: int = 10
) -> list[tuple[str, int]]:
    """The tokens at each window's peak activation, most frequent first (ties: first seen)."""
    counts: Counter[str] = Counter()
    for str_tokens, acts in windows:
        if acts and max(acts) > 0:
            peak = max(range(len(acts)), key=lambda i: acts[i])
            counts[display_token(str_tokens[peak]).strip() or str_tokens[peak]] += 1
    return counts.most_common(k)
