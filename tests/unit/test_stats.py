import math

import numpy as np
import pytest
from pydantic import BaseModel

from sae_interp.framework.table import format_estimate
from sae_interp.stats import (
    Estimate,
    IntervalSettings,
    bootstrap_mean,
    bootstrap_statistic,
    difference_of_means,
    paired_difference,
    permutation_p_value,
    pool,
    pool_difference,
    pool_paired_difference,
    pooled,
    pooled_fields,
    pooled_model,
    sign_flip_p_value,
)


def test_constant_sample_gives_zero_width_interval() -> None:
    e = bootstrap_mean([0.7] * 12)
    assert (
        e.value == pytest.approx(0.7) and e.lo == pytest.approx(0.7) and e.hi == pytest.approx(0.7)
    )
    assert e.n == 12 and e.n_undefined == 0


def test_undefined_values_are_left_out_and_counted() -> None:
    e = bootstrap_mean([1.0, None, math.nan, 3.0])
    assert e.value == pytest.approx(2.0) and e.n == 2 and e.n_undefined == 2
    assert e.lo is not None and e.hi is not None and 1.0 <= e.lo <= e.hi <= 3.0
    empty = bootstrap_mean([None, math.nan])
    assert empty.value is None and empty.lo is None and empty.n_undefined == 2
    single = bootstrap_mean([0.3])
    assert single.value == pytest.approx(0.3) and single.lo is None and single.hi is None


def test_coverage_on_a_normal_sample_is_about_95_percent() -> None:
    rng = np.random.default_rng(0)
    settings = IntervalSettings(n_resamples=500)
    hits = 0
    trials = 300
    for t in range(trials):
        sample = rng.normal(1.0, 2.0, size=40).tolist()
        e = bootstrap_mean(sample, settings.model_copy(update={"seed": t}))
        hits += e.lo <= 1.0 <= e.hi  # type: ignore[operator]
    # the percentile bootstrap covers a little under its nominal level at n = 40
    assert 0.89 <= hits / trials <= 0.99


def test_intervals_are_seeded_and_narrow_with_more_latents() -> None:
    rng = np.random.default_rng(1)
    small, large = rng.normal(size=20).tolist(), rng.normal(size=2000).tolist()
    assert bootstrap_mean(small) == bootstrap_mean(small)
    assert bootstrap_mean(small, IntervalSettings(seed=1)) != bootstrap_mean(small)
    width = lambda e: e.hi - e.lo  # noqa: E731
    assert width(bootstrap_mean(large)) < width(bootstrap_mean(small)) / 5


def test_paired_difference_by_hand() -> None:
    e = paired_difference([1.0, 2.0, 3.0, None], [0.0, 1.0, 2.0, 5.0])
    assert (
        e.value == pytest.approx(1.0) and e.lo == pytest.approx(1.0) and e.hi == pytest.approx(1.0)
    )
    assert e.n == 3 and e.n_undefined == 1
    with pytest.raises(ValueError, match="length"):
        paired_difference([1.0], [1.0, 2.0])


def test_difference_of_means_and_permutation_p() -> None:
    rng = np.random.default_rng(2)
    a = rng.normal(1.0, 0.5, size=60).tolist()
    b = rng.normal(0.0, 0.5, size=50).tolist()
    d = difference_of_means(a, b)
    assert d.value == pytest.approx(np.mean(a) - np.mean(b))
    assert d.excludes(0.0) and d.lo > 0.5  # type: ignore[operator]
    p = permutation_p_value(a, b, n_permutations=2000)
    assert p is not None and p == pytest.approx(1 / 2001)  # no relabelling beats the truth
    same = permutation_p_value(a[:30], a[30:], n_permutations=2000)
    assert same is not None and same > 0.05
    assert not difference_of_means(a[:30], a[30:]).excludes(0.0)
    assert permutation_p_value([], b) is None


def test_sign_flip_p_value_of_paired_differences() -> None:
    # differences 1, 2, 3, 4: only all-plus and all-minus of the 16 sign patterns reach the
    # observed |mean|, so the exact two-sided p is 2/16
    assert sign_flip_p_value([2.0, 3.0, 4.0, 5.0], [1.0, 1.0, 1.0, 1.0]) == pytest.approx(0.125)
    # differences 1, -1: every pattern is as extreme as the observed mean 0
    assert sign_flip_p_value([1.0, 0.0], [0.0, 1.0]) == 1.0
    # undefined pairs are left out: (3 - 1) and (None) -> one pair, p = 1
    assert sign_flip_p_value([3.0, None], [1.0, 2.0]) == 1.0
    assert sign_flip_p_value([None], [1.0]) is None
    with pytest.raises(ValueError, match="length"):
        sign_flip_p_value([1.0], [1.0, 2.0])
    # 40 pairs (Monte Carlo): a consistent shift is found, noise is not
    rng = np.random.default_rng(3)
    base = rng.normal(size=40)
    shifted = sign_flip_p_value((base + 1.0).tolist(), base.tolist(), n_permutations=2000)
    assert shifted == pytest.approx(1 / 2001)
    noisy = sign_flip_p_value((base + rng.normal(size=40)).tolist(), base.tolist(), 2000)
    assert noisy is not None and noisy > 0.05


class Toy(BaseModel):
    n_examples: int
    accuracy: float | None = pooled("Fraction right.")
    auroc: float = pooled("Ranking quality.")
    failed: float = pooled("Unreadable answers.", bookkeeping=True, default=0.0)


def test_pooling_is_declared_with_the_metric() -> None:
    assert pooled_fields(Toy) == ("accuracy", "auroc", "failed")
    assert pooled_fields(Toy, scores_only=True) == ("accuracy", "auroc")
    model = pooled_model(Toy)
    assert set(model.model_fields) == {"n_latents", "accuracy", "auroc", "failed"}
    assert pooled_model(Toy) is model  # one class per metrics class
    items = [Toy(n_examples=4, accuracy=a, auroc=0.5, failed=0.0) for a in (0.5, 1.0, None)]
    p = pool(Toy, [*items, None])
    assert p is not None and p.n_latents == 3
    assert p.accuracy.value == pytest.approx(0.75) and p.accuracy.n_undefined == 1
    assert p.auroc.lo == pytest.approx(0.5)
    assert pool(Toy, [None]) is None

    class NoPool(BaseModel):
        x: float

    with pytest.raises(TypeError, match="declares no pooled metric"):
        pooled_fields(NoPool)
    with pytest.raises(TypeError, match="expected Toy"):
        pool(Toy, [NoPool(x=1.0)])  # type: ignore[list-item]


def test_pooled_differences() -> None:
    real = [Toy(n_examples=1, accuracy=a, auroc=0.9) for a in (0.9, 0.8, 0.7)]
    control = [Toy(n_examples=1, accuracy=a, auroc=0.5) for a in (0.5, 0.4, None)]
    paired = pool_paired_difference(Toy, list(zip(real, control, strict=True)))
    assert paired is not None and paired.n_latents == 3
    assert paired.accuracy.value == pytest.approx(0.4) and paired.accuracy.n == 2
    assert paired.auroc.value == pytest.approx(0.4)
    unpaired = pool_difference(Toy, real, control)
    assert unpaired is not None and unpaired.accuracy.value == pytest.approx(0.8 - 0.45)


def test_estimate_formatting() -> None:
    e = Estimate(value=0.51234, lo=0.4, hi=0.6, n=10)
    assert format_estimate(e.model_dump()) == "0.512 [0.4, 0.6]" == str(e)
    assert format_estimate(Estimate(value=None, n=0).model_dump()) == "n/a"
    assert format_estimate(Estimate(value=0.5, n=1).model_dump()) == "0.5"


def test_bootstrap_of_a_ratio_of_sums_resamples_units() -> None:
    ratio = lambda t: t["num"] / t["den"]  # noqa: E731
    same = {"num": np.array([2.0, 4.0, 6.0]), "den": np.array([1.0, 2.0, 3.0])}
    e = bootstrap_statistic(same, ratio)
    assert e.value == pytest.approx(2.0) and e.lo == pytest.approx(2.0) and e.n == 3
    # the point value is the ratio of the totals, not the mean of the ratios
    mixed = {"num": np.array([1.0, 9.0]), "den": np.array([1.0, 3.0])}
    m = bootstrap_statistic(mixed, ratio)
    assert m.value == pytest.approx(10 / 4) and m.lo == pytest.approx(1.0)
    assert m.hi == pytest.approx(3.0)
    undefined = bootstrap_statistic({"num": np.array([1.0]), "den": np.array([0.0])}, ratio)
    assert undefined.value is None
