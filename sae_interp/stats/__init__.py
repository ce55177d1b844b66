"""Uncertainty of pooled numbers: seeded bootstrap intervals over latents, paired and
two-sample differences, permutation p-values, and pooling declared with each metric. Pure
functions over numbers and pydantic models; imports nothing else of sae_interp."""

from sae_interp.stats.intervals import (
    Estimate,
    IntervalSettings,
    bootstrap_mean,
    bootstrap_statistic,
    defined,
    difference_of_means,
    paired_difference,
    permutation_p_value,
    sign_flip_p_value,
)
from sae_interp.stats.pooling import (
    pool,
    pool_difference,
    pool_paired_difference,
    pooled,
    pooled_fields,
    pooled_model,
)

__all__ = [
    "Estimate",
    "IntervalSettings",
    "bootstrap_mean",
    "bootstrap_statistic",
    "defined",
    "difference_of_means",
    "paired_difference",
    "permutation_p_value",
    "pool",
    "pool_difference",
    "pool_paired_difference",
    "pooled",
    "pooled_fields",
    "pooled_model",
    "sign_flip_p_value",
]
