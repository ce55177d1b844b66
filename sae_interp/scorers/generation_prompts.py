"""Prompts of the generation evaluation. Exact strings are tested."""

from __future__ import annotations

SYSTEM = (
    "You write test texts for a latent (a learned feature) of a language model. From its "
    "description alone, write texts that should make it fire as strongly as possible. Reply "
    'with only a JSON object: {"texts": ["...", "..."]}'
)


def user_message(explanation: str, n: int) -> str:
    return (
        f"Description of the latent: {explanation}\n\nWrite {n} different short texts (one or "
        f"two sentences each) that should activate it strongly."
    )
