"""Percentile bootstrap intervals of means and of differences of means (pure, seeded)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

N_BOOT = 2000
LEVEL = 0.95


def _clean(values: Sequence[float]) -> np.ndarray:
    a = np.asarray([v for v in values if v is not None], dtype=np.float64)
    return a[~np.isnan(a)]


def _interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1 - level) / 2
    lo, hi = np.quantile(samples, [tail, 1 - tail])
    return float(lo), float(hi)


def bootstrap_mean_ci(
    values: Sequence[float], *, n_boot: int = N_BOOT, level: float = LEVEL, seed: int = 0
) -> tuple[float, float]:
    """Percentile interval of the mean of ``values`` (nan/None dropped); (nan, nan) if empty."""
    a = _clean(values)
    if len(a) == 0:
        return math.nan, math.nan
    rng = np.random.default_rng([seed, 101])
    means = a[rng.integers(0, len(a), size=(n_boot, len(a)))].mean(axis=1)
    return _interval(means, level)


def bootstrap_diff_ci(
    a: Sequence[float],
    b: Sequence[float],
    *,
    paired: bool,
    n_boot: int = N_BOOT,
    level: float = LEVEL,
    seed: int = 0,
) -> tuple[float, float]:
    """Interval of mean(a) - mean(b). ``paired``: a[i] and b[i] belong together (the same
    latent scored twice) and are resampled together; pairs with a nan are dropped."""
    rng = np.random.default_rng([seed, 103])
    if paired:
        if len(a) != len(b):
            raise ValueError(f"paired samples differ in length: {len(a)} vs {len(b)}")
        diffs = [
            x - y
            for x, y in zip(a, b, strict=True)
            if x is not None and y is not None and not (math.isnan(x) or math.isnan(y))
        ]
        return bootstrap_mean_ci(diffs, n_boot=n_boot, level=level, seed=seed)
    x, y = _clean(a), _clean(b)
    if len(x) == 0 or len(y) == 0:
        return math.nan, math.nan
    mx = x[rng.integers(0, len(x), size=(n_boot, len(x)))].mean(axis=1)
    my = y[rng.integers(0, len(y), size=(n_boot, len(y)))].mean(axis=1)
    return _interval(mx - my, level)


def excludes_zero(interval: tuple[float, float]) -> bool:
    lo, hi = interval
    return not (math.isnan(lo) or math.isnan(hi)) and (lo > 0 or hi < 0)
