"""Prompts of the prediction (simulation) evaluation. Exact strings are tested."""

from __future__ import annotations

from collections.abc import Sequence

SYSTEM = (
    "You simulate a latent (a learned feature) of a language model. Given its description "
    "and a text split into numbered tokens, predict the latent's activation on every token "
    "on a scale from 0 (silent) to 10 (strongest). Reply with only a JSON list of integers, "
    "one per token, in order."
)


def user_message(explanation: str, tokens: Sequence[str]) -> str:
    lines = [f"Description of the latent: {explanation}", "", "Tokens:"]
    lines += [f"{i} {token!r}" for i, token in enumerate(tokens, 1)]
    lines += ["", f"Reply with a JSON list of {len(tokens)} integers from 0 to 10."]
    return "\n".join(lines)
