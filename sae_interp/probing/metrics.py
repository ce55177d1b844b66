"""Pure pooling functions of the sparse probing eval: means over datasets with a bootstrap
interval, paired differences, the count of datasets where an SAE probe matches the
baseline, and the spread across seeds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, Field


class Interval(BaseModel):
    """A mean over datasets with a percentile bootstrap interval (resampling datasets)."""

    mean: float | None = Field(description="Mean over datasets (None when there are none).")
    lo: float | None = Field(default=None, description="Lower end of the interval.")
    hi: float | None = Field(default=None, description="Upper end of the interval.")
    n: int = Field(description="Datasets pooled.")


def bootstrap_mean(
    values: Sequence[float], *, n_boot: int = 2000, level: float = 0.95, seed: int = 0
) -> Interval:
    """Mean of ``values`` with a percentile bootstrap interval over them (one value per
    dataset); a single value has an interval of zero width, none gives ``mean=None``."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return Interval(mean=None, n=0)
    if arr.size == 1:
        return Interval(mean=float(arr[0]), lo=float(arr[0]), hi=float(arr[0]), n=1)
    rng = np.random.default_rng(seed)
    means = arr[rng.integers(0, arr.size, size=(n_boot, arr.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return Interval(mean=float(arr.mean()), lo=float(lo), hi=float(hi), n=int(arr.size))


def paired_difference(a: Mapping[str, float], b: Mapping[str, float], *, seed: int = 0) -> Interval:
    """Mean of ``a[d] - b[d]`` over the datasets both have, with its bootstrap interval."""
    common = sorted(a.keys() & b.keys())
    return bootstrap_mean([a[d] - b[d] for d in common], seed=seed)


def count_matching(a: Mapping[str, float], b: Mapping[str, float], tolerance: float) -> int:
    """Datasets where ``a`` is at least ``b - tolerance`` (the SAE probe matches the
    baseline within the tolerance)."""
    return sum(1 for d in a.keys() & b.keys() if a[d] >= b[d] - tolerance)


def seed_spread(per_seed: Mapping[int, Mapping[str, float]]) -> float | None:
    """Standard deviation (ddof=1) across seeds of the mean over datasets, on the datasets
    every seed has; None with fewer than two seeds."""
    if len(per_seed) < 2:
        return None
    common = set.intersection(*(set(v) for v in per_seed.values()))
    if not common:
        return None
    means = [float(np.mean([v[d] for d in common])) for v in per_seed.values()]
    return float(np.std(means, ddof=1))


def best_by_validation(candidates: Mapping[str, tuple[float, float]]) -> tuple[str, float]:
    """The candidate with the highest validation AUC (first name on ties) and its test
    AUC; ``candidates`` maps name -> (val_auc, test_auc)."""
    name = max(sorted(candidates), key=lambda n: candidates[n][0])
    return name, candidates[name][1]
