"""Prompts of the simulator. Exact strings are tested; change them deliberately.

All-at-once mode is a plain completion prompt (no chat template): one demo text with its
true activations, then the text to simulate with a placeholder in place of every activation.
The completions endpoint echoes the prompt with the most likely alternatives at every
position, so the distribution over "0".."10" at each placeholder is the prediction for that
token (each position sees only the tokens before it). Chat mode (for endpoints without prompt
log-probs) asks for the list of values: see :mod:`sae_interp.scorers.prediction_prompts`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sae_interp.text.formatting import display_token

PLACEHOLDER = "?"

HEADER = (
    "A latent (a learned feature) of a language model responds to some tokens of a text. "
    "Each text below is listed one token per line as token<TAB>activation, where the "
    "activation of the latent runs from 0 (silent) to 10 (strongest). Most tokens have "
    "activation 0.\n\n"
)

DEMO_EXPLANATION = "days of the week"
DEMO_TOKENS: tuple[tuple[str, int], ...] = (
    ("The", 0),
    (" shop", 0),
    (" shuts", 0),
    (" early", 0),
    (" on", 0),
    (" Monday", 10),
    (" and", 0),
    (" Friday", 8),
    (".", 0),
)
END = "<end>"

# The same text twice under two explanations, each marking other tokens: shows a small
# simulator that the activations follow the explanation, not the text (with one demo it
# tends to copy the demo's pattern whatever the explanation; see the known-answer suite).
CONTRASTIVE_TEXT = ("The", " cat", " ate", " bread", " and", " the", " dog", " ate", " soup", ".")
CONTRASTIVE_DEMOS: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = (
    ("words for food", tuple(zip(CONTRASTIVE_TEXT, (0, 0, 0, 10, 0, 0, 0, 0, 9, 0), strict=True))),
    ("animals", tuple(zip(CONTRASTIVE_TEXT, (0, 10, 0, 0, 0, 0, 10, 0, 0, 0), strict=True))),
)
DEMO_SETS: dict[str, tuple[tuple[str, tuple[tuple[str, int], ...]], ...]] = {
    "one": ((DEMO_EXPLANATION, DEMO_TOKENS),),
    "contrastive": CONTRASTIVE_DEMOS,
}


def shown_token(token: str) -> str:
    return display_token(token).replace("\t", " ")


def _block(explanation: str) -> str:
    return f"Latent description: {explanation}\nText:\n"


def all_at_once_prompt(
    explanation: str, tokens: Sequence[str], placeholder: str = PLACEHOLDER, demos: str = "one"
) -> tuple[str, list[int]]:
    """The prompt, and the character offset of each token's placeholder in it. The
    placeholder is "?" (unknown) or "0" (the common value, which small models continue more
    naturally); the prediction at a token is read before its placeholder either way.
    ``demos`` names the worked examples before the text (:data:`DEMO_SETS`)."""
    parts = [HEADER]
    for demo_explanation, demo_tokens in DEMO_SETS[demos]:
        parts.append(_block(demo_explanation))
        parts += [f"{shown_token(t)}\t{v}\n" for t, v in demo_tokens]
        parts.append(f"{END}\n\n")
    parts.append(_block(explanation))
    prompt = "".join(parts)
    offsets = []
    for token in tokens:
        prompt += f"{shown_token(token)}\t"
        offsets.append(len(prompt))
        prompt += f"{placeholder}\n"
    return prompt, offsets
