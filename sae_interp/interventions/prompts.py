"""Intervention prompts: the corpus text up to and including a latent's first activating
token in a window (at most ``max_len`` tokens, BOS kept in front), so that steering at the
last position continues exactly where the latent fired."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from sae_interp.activations.records import Window


def prompt_for(window: Window, tokens: torch.Tensor, max_len: int, bos: bool) -> list[int] | None:
    """Prompt token ids for ``window`` (None when the latent never fires in it).

    ``tokens`` is the cache's [n_seqs, ctx_len] token matrix; ``bos`` says whether every
    sequence starts with a BOS token (kept as the prompt's first token)."""
    first = next((i for i, a in enumerate(window.activations) if a > 0), None)
    if first is None:
        return None
    pos = window.start + first
    row = tokens[window.seq].tolist()
    start = max(1 if bos else 0, pos + 1 - (max_len - 1 if bos else max_len))
    return ([row[0]] if bos else []) + row[start : pos + 1]


def prompts_for(
    windows: Sequence[Window], tokens: torch.Tensor, max_len: int, bos: bool
) -> list[list[int]]:
    prompts = [prompt_for(w, tokens, max_len, bos) for w in windows]
    return [p for p in prompts if p is not None]
