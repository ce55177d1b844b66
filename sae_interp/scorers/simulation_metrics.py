"""Pure scores of a simulation (no LLM, no I/O): how well predicted per-token activations
match the true ones. Each returns None when undefined (constant truth or predictions, or
fewer than two tokens) instead of a made-up number.

- ``correlation``: Pearson correlation over all tokens pooled (the primary score; invariant
  to the scale of the predictions).
- ``r_squared``: 1 - sum (p - t)^2 / sum (t - mean t)^2, with the true activations rescaled to
  the simulator's 0-10 scale (10 * a / the latent's max).
- ``abs_dev_explained``: 1 - sum |p - t| / sum |t - mean t| on the same scale.
- ``per_window_correlation``: mean over windows of the within-window correlation (windows
  where it is undefined, e.g. all-zero negatives, are left out and counted).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _pair(pred: Sequence[float], true: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    p, t = np.asarray(pred, dtype=np.float64), np.asarray(true, dtype=np.float64)
    if p.shape != t.shape:
        raise ValueError(f"predictions and truth differ in length: {p.shape} vs {t.shape}")
    return p, t


def correlation(pred: Sequence[float], true: Sequence[float]) -> float | None:
    p, t = _pair(pred, true)
    if len(p) < 2 or np.ptp(p) == 0 or np.ptp(t) == 0:
        return None
    return float(np.corrcoef(p, t)[0, 1])


def rescale(true: Sequence[float], max_activation: float, top: float = 10.0) -> list[float]:
    """True activations on the simulator's scale (``top`` at the latent's max)."""
    if max_activation <= 0:
        return [0.0 for _ in true]
    return [min(top, max(0.0, top * a / max_activation)) for a in true]


def r_squared(pred: Sequence[float], true: Sequence[float]) -> float | None:
    p, t = _pair(pred, true)
    total = float(((t - t.mean()) ** 2).sum())
    if len(p) < 2 or total == 0 or np.ptp(p) == 0:
        return None
    return 1.0 - float(((p - t) ** 2).sum()) / total


def abs_dev_explained(pred: Sequence[float], true: Sequence[float]) -> float | None:
    p, t = _pair(pred, true)
    total = float(np.abs(t - t.mean()).sum())
    if len(p) < 2 or total == 0 or np.ptp(p) == 0:
        return None
    return 1.0 - float(np.abs(p - t).sum()) / total


def per_window_correlation(
    windows: Sequence[tuple[Sequence[float], Sequence[float]]],
) -> tuple[float | None, int]:
    """Mean within-window correlation over windows where it is defined, and how many were
    left out as undefined."""
    values = [correlation(p, t) for p, t in windows]
    kept = [v for v in values if v is not None]
    return (float(np.mean(kept)) if kept else None), len(values) - len(kept)


def expected_level(alternatives: dict[str, float], top: int = 10) -> tuple[float, float] | None:
    """Expected value over the integer answers 0..``top`` among ``alternatives`` (token ->
    log-prob; tokens compared after stripping spaces), renormalised over those integers, and
    the total probability they hold. None when no alternative is such an integer."""
    weights: dict[int, float] = {}
    for token, logprob in alternatives.items():
        text = token.strip()
        if text.isdigit() and int(text) <= top and text == str(int(text)):
            weights[int(text)] = weights.get(int(text), 0.0) + float(np.exp(logprob))
    mass = sum(weights.values())
    if mass <= 0:
        return None
    return sum(k * w for k, w in weights.items()) / mass, mass
