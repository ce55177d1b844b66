"""Percentile-bootstrap intervals for means over latents, and permutation tests.

Undefined values (None or NaN: a latent whose metric cannot be computed, e.g. AUROC with one
class) are left out and counted, never pooled as zeros. Every function is seeded, so the
same inputs give the same interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

Value = float | int | None


class IntervalSettings(BaseModel):
    """How intervals are computed (shared by every eval)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_resamples: int = Field(default=1000, ge=0, description="Bootstrap resamples (0 = none).")
    confidence: float = Field(default=0.95, gt=0, lt=1, description="Interval coverage.")
    seed: int = Field(default=0, description="Seed of the resampling.")


class Estimate(BaseModel):
    """A pooled number with its uncertainty: the mean over latents with a defined value, and
    a bootstrap interval (None when fewer than two values are defined)."""

    model_config = ConfigDict(extra="forbid")

    value: float | None = Field(description="Mean over defined values; None when none is.")
    lo: float | None = Field(default=None, description="Lower end of the interval.")
    hi: float | None = Field(default=None, description="Upper end of the interval.")
    n: int = Field(description="Values that were defined (latents, or pairs for a difference).")
    n_undefined: int = Field(default=0, description="Values left out as undefined.")

    def excludes(self, point: float = 0.0) -> bool:
        """True when the interval lies entirely on one side of ``point``."""
        if self.lo is None or self.hi is None:
            return False
        return self.lo > point or self.hi < point

    def __str__(self) -> str:
        if self.value is None:
            return "n/a"
        if self.lo is None or self.hi is None:
            return f"{self.value:.3g}"
        return f"{self.value:.3g} [{self.lo:.3g}, {self.hi:.3g}]"


def _is_defined(value: Value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def defined(values: Sequence[Value]) -> np.ndarray:
    """The defined values as a float array."""
    return np.asarray([float(v) for v in values if _is_defined(v)], dtype=np.float64)  # type: ignore[arg-type]


def _rng(settings: IntervalSettings, stream: int) -> np.random.Generator:
    return np.random.default_rng([settings.seed, stream])


def _percentiles(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(samples, [tail, 100 - tail])
    return float(lo), float(hi)


def _resampled_means(x: np.ndarray, settings: IntervalSettings, stream: int) -> np.ndarray:
    index = _rng(settings, stream).integers(0, len(x), size=(settings.n_resamples, len(x)))
    return x[index].mean(axis=1)


def bootstrap_mean(values: Sequence[Value], settings: IntervalSettings | None = None) -> Estimate:
    """Mean of the defined values with a percentile-bootstrap interval."""
    settings = settings or IntervalSettings()
    x = defined(values)
    n_undefined = len(values) - len(x)
    if len(x) == 0:
        return Estimate(value=None, n=0, n_undefined=n_undefined)
    mean = float(x.mean())
    if len(x) < 2 or settings.n_resamples == 0:
        return Estimate(value=mean, n=len(x), n_undefined=n_undefined)
    lo, hi = _percentiles(_resampled_means(x, settings, 1), settings.confidence)
    return Estimate(
        value=mean, lo=min(lo, mean), hi=max(hi, mean), n=len(x), n_undefined=n_undefined
    )


def paired_difference(
    first: Sequence[Value], second: Sequence[Value], settings: IntervalSettings | None = None
) -> Estimate:
    """Mean of ``first[i] - second[i]`` over the pairs where both are defined (e.g. a
    latent's score with its own explanation minus its score with a control explanation),
    with a bootstrap interval over pairs."""
    if len(first) != len(second):
        raise ValueError(f"paired values differ in length: {len(first)} vs {len(second)}")
    diffs = [
        float(a) - float(b)  # type: ignore[arg-type]
        for a, b in zip(first, second, strict=True)
        if _is_defined(a) and _is_defined(b)
    ]
    estimate = bootstrap_mean(diffs, settings)
    return estimate.model_copy(update={"n_undefined": len(first) - len(diffs)})


def difference_of_means(
    first: Sequence[Value], second: Sequence[Value], settings: IntervalSettings | None = None
) -> Estimate:
    """mean(first) - mean(second) for two independent samples (e.g. the latents of two
    SAEs), with a bootstrap interval that resamples each sample on its own. ``n`` counts the
    defined values of both."""
    settings = settings or IntervalSettings()
    a, b = defined(first), defined(second)
    n_undefined = len(first) + len(second) - len(a) - len(b)
    if len(a) == 0 or len(b) == 0:
        return Estimate(value=None, n=len(a) + len(b), n_undefined=n_undefined)
    diff = float(a.mean() - b.mean())
    if len(a) < 2 or len(b) < 2 or settings.n_resamples == 0:
        return Estimate(value=diff, n=len(a) + len(b), n_undefined=n_undefined)
    samples = _resampled_means(a, settings, 2) - _resampled_means(b, settings, 3)
    lo, hi = _percentiles(samples, settings.confidence)
    return Estimate(
        value=diff, lo=min(lo, diff), hi=max(hi, diff), n=len(a) + len(b), n_undefined=n_undefined
    )


def permutation_p_value(
    first: Sequence[Value],
    second: Sequence[Value],
    n_permutations: int = 10_000,
    seed: int = 0,
) -> float | None:
    """Two-sided p-value of the difference in means under random relabelling of the pooled
    defined values (two independent samples). None when either sample is empty."""
    a, b = defined(first), defined(second)
    if len(a) == 0 or len(b) == 0:
        return None
    pooled = np.concatenate([a, b])
    observed = abs(a.mean() - b.mean())
    rng = np.random.default_rng([seed, 4])
    keys = rng.random((n_permutations, len(pooled)))
    order = np.argsort(keys, axis=1)
    shuffled = pooled[order]
    diffs = np.abs(shuffled[:, : len(a)].mean(axis=1) - shuffled[:, len(a) :].mean(axis=1))
    # the observed labelling counts as one of the permutations (never p = 0)
    extreme = int(np.sum(diffs >= observed - 1e-12))
    return (extreme + 1) / (n_permutations + 1)


def sign_flip_p_value(
    first: Sequence[Value],
    second: Sequence[Value],
    n_permutations: int = 10_000,
    seed: int = 0,
) -> float | None:
    """Two-sided p-value of the mean paired difference ``first[i] - second[i]`` (pairs where
    both are defined) under random sign flips of the differences: the permutation test of a
    paired design (the same latents scored two ways). Exact (every one of the 2^n sign
    patterns) when 2^n <= ``n_permutations``; otherwise ``n_permutations`` random patterns,
    with the observed one counted (never p = 0). None when no pair is defined."""
    if len(first) != len(second):
        raise ValueError(f"paired values differ in length: {len(first)} vs {len(second)}")
    diffs = np.array(
        [
            float(a) - float(b)  # type: ignore[arg-type]
            for a, b in zip(first, second, strict=True)
            if _is_defined(a) and _is_defined(b)
        ]
    )
    if len(diffs) == 0:
        return None
    observed = abs(diffs.mean())
    if 2 ** len(diffs) <= n_permutations:
        patterns = np.arange(2 ** len(diffs))[:, None] >> np.arange(len(diffs)) & 1
        means = np.abs(((1 - 2 * patterns) * diffs).mean(axis=1))
        return float(np.mean(means >= observed - 1e-12))
    rng = np.random.default_rng([seed, 6])
    signs = rng.choice([-1.0, 1.0], size=(n_permutations, len(diffs)))
    extreme = int(np.sum(np.abs((signs * diffs).mean(axis=1)) >= observed - 1e-12))
    return (extreme + 1) / (n_permutations + 1)


def bootstrap_statistic(
    units: dict[str, np.ndarray],
    statistic: Callable[[dict[str, np.ndarray]], np.ndarray],
    settings: IntervalSettings | None = None,
) -> Estimate:
    """A statistic of sums over units (e.g. sequences), with an interval from resampling the
    units. ``units`` maps a name to per-unit values (shape [n_units, ...]); ``statistic``
    takes the same names mapped to sums with a leading resample axis ([B, ...]) and returns
    one value per resample. Ratios of sums (explained variance, CE loss recovered, L0 per
    token) are bootstrapped this way, resampling whole sequences."""
    settings = settings or IntervalSettings()
    n_units = len(next(iter(units.values())))
    totals = {name: values.sum(axis=0, keepdims=True) for name, values in units.items()}
    value = float(statistic(totals)[0])
    if not math.isfinite(value):
        return Estimate(value=None, n=n_units, n_undefined=n_units)
    if n_units < 2 or settings.n_resamples == 0:
        return Estimate(value=value, n=n_units)
    index = _rng(settings, 5).integers(0, n_units, size=(settings.n_resamples, n_units))
    counts = np.zeros((settings.n_resamples, n_units))
    np.add.at(counts, (np.arange(settings.n_resamples)[:, None], index), 1.0)
    resampled = {
        name: np.tensordot(counts, values, axes=([1], [0])) for name, values in units.items()
    }
    samples = statistic(resampled)
    samples = samples[np.isfinite(samples)]
    if len(samples) == 0:
        return Estimate(value=value, n=n_units)
    lo, hi = _percentiles(samples, settings.confidence)
    return Estimate(value=value, lo=min(lo, value), hi=max(hi, value), n=n_units)
