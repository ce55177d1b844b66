"""Pure pooling functions of the sparse probing eval: means over datasets with a bootstrap
interval, paired differences, the count of datasets where an SAE probe matches the
baseline, and the spread across seeds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from sae_interp import stats
from sae_interp.stats import Estimate, IntervalSettings


def bootstrap_mean(values: Sequence[float], *, seed: int = 0) -> Estimate:
    """Mean of ``values`` (one per dataset) with a percentile bootstrap interval over the
    datasets (the shared implementation, 2,000 resamples)."""
    return stats.bootstrap_mean(values, IntervalSettings(n_resamples=2000, seed=seed))


def paired_difference(a: Mapping[str, float], b: Mapping[str, float], *, seed: int = 0) -> Estimate:
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
