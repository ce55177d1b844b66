"""Pure intervention metrics: KL between next-token distributions, the biggest probability
rises, and explanation scores from surprisals."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch


def mean_kl(clean_logprobs: torch.Tensor, steered_logprobs: torch.Tensor) -> float:
    """Mean over rows of KL(clean || steered) (nats), from [rows, vocab] log-probs."""
    p = clean_logprobs.exp()
    return float((p * (clean_logprobs - steered_logprobs)).sum(-1).mean())


def top_rises(
    clean_logprobs: torch.Tensor, steered_logprobs: torch.Tensor, k: int = 5
) -> list[list[tuple[int, float]]]:
    """Per row, the ``k`` token ids whose probability rose most, with the rise."""
    rise = steered_logprobs.exp() - clean_logprobs.exp()
    values, ids = rise.topk(k, dim=-1)
    return [
        [(int(i), float(v)) for i, v in zip(row_ids, row_values, strict=True)]
        for row_ids, row_values in zip(ids.tolist(), values.tolist(), strict=True)
    ]


def explanation_score(
    surprisal_clean: Sequence[float], surprisal_steered: Sequence[float]
) -> float:
    """Mean over test prompts of surprisal(explanation | clean continuation) −
    surprisal(explanation | steered continuation), in nats: positive when the steered text
    makes the explanation more expected."""
    if len(surprisal_clean) != len(surprisal_steered):
        raise ValueError("one surprisal per test prompt is needed under both conditions")
    if not surprisal_clean:
        return math.nan
    diffs = [c - s for c, s in zip(surprisal_clean, surprisal_steered, strict=True)]
    return sum(diffs) / len(diffs)


def latent_score(scores: Sequence[float]) -> float:
    """The best of a latent's k explanations (nan when none could be scored)."""
    kept = [s for s in scores if not math.isnan(s)]
    return max(kept) if kept else math.nan
