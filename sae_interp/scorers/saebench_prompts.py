"""Prompts of the SAEBench-compatible detection mode (one prompt, the judge lists indices).
Exact strings are tested; change them deliberately."""

from __future__ import annotations

from collections.abc import Sequence

SYSTEM = (
    "You check explanations of latents (learned features) of a language model. You get an "
    "explanation and numbered text excerpts in random order. List the numbers of the excerpts "
    "in which the latent should be active at least once, according to the explanation, as a "
    "comma-separated list such as 2, 5, 7. If it is active in none of them, reply None. "
    "Reply with the list only."
)


def user_message(explanation: str, excerpts: Sequence[str]) -> str:
    lines = [f"Explanation: {explanation}", ""]
    lines += [f"{i}. {text}" for i, text in enumerate(excerpts, 1)]
    return "\n".join(lines)
