"""What every explanation-based eval reports: its score pooled over latents with intervals,
next to each control it should beat and the difference real - control with its interval,
and (with ``--seeds``) how much the pooled score moves between seeds compared with how much
latents differ."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

import numpy as np
from pydantic import BaseModel, Field

from sae_interp.evals.common.scored_models import (
    RANDOM_MODEL,
    RANDOM_SAE,
    ExplainedCounts,
    LatentScore,
    ScoredRun,
)
from sae_interp.stats import (
    IntervalSettings,
    defined,
    pool,
    pool_difference,
    pool_paired_difference,
    pooled_fields,
)

P = TypeVar("P", bound=BaseModel)


class SeedSpread(BaseModel):
    """One pooled metric under several seeds."""

    seeds: list[int]
    means: list[float | None] = Field(description="The pooled mean under each seed.")
    between_seed_sd: float | None = Field(description="SD of the pooled mean across seeds.")
    between_latent_sd: float | None = Field(
        description="SD of the per-latent values across latents (first seed)."
    )


class ControlledMetrics(ExplainedCounts, Generic[P]):
    """Counts, controls and reseed spread shared by every explanation-based eval; each eval
    adds its headline pooled score."""

    shuffled_control: P | None = Field(
        default=None, description="The same scoring with another latent's explanation."
    )
    real_minus_shuffled_control: P | None = Field(
        default=None,
        description="Per-latent difference real - shuffled-explanation control, pooled.",
    )
    random_sae_control: P | None = Field(
        default=None,
        description="The whole pipeline on a random SAE of the same shape (latents matched "
        "by firing frequency); None unless --random-sae-control.",
    )
    real_minus_random_sae: P | None = Field(
        default=None, description="Difference of means real - random SAE (independent latents)."
    )
    random_model_control: P | None = Field(
        default=None,
        description="The whole pipeline on the same SAE recipe trained on a random-weights "
        "copy of the model, run on that model (latents matched by firing frequency); None "
        "unless --random-model-control.",
    )
    real_minus_random_model: P | None = Field(
        default=None,
        description="Difference of means real - random model (independent latents).",
    )
    n_without_control: int = Field(
        default=0, description="Scored latents with no distinct control explanation."
    )
    reseed: dict[str, SeedSpread] | None = Field(
        default=None, description="Per pooled metric, its spread across --seeds."
    )


def _metrics(results: list[LatentScore[Any, Any]], control: bool = False) -> list[Any]:
    return [r.control_metrics if control else r.metrics for r in results]


def _sd(values: np.ndarray) -> float | None:
    return float(np.std(values, ddof=1)) if len(values) > 1 else None


def seed_spread(
    runs: dict[int, list[Any]], metrics_cls: type[BaseModel], prefix: str = ""
) -> dict[str, SeedSpread]:
    """Per pooled field of ``metrics_cls``: its mean over latents under each seed of ``runs``
    (seed -> per-latent metrics, None where a latent has none; the run's own seed first),
    the SD of those means and the SD between latents under the first seed. Keys are the
    field names after ``prefix``."""
    spread = {}
    for name in pooled_fields(metrics_cls):
        per_seed = [
            defined([getattr(m, name) for m in metrics if m is not None])
            for metrics in runs.values()
        ]
        means = [float(x.mean()) if len(x) else None for x in per_seed]
        spread[prefix + name] = SeedSpread(
            seeds=list(runs),
            means=means,
            between_seed_sd=_sd(defined(means)),
            between_latent_sd=_sd(per_seed[0]) if per_seed else None,
        )
    return spread


def pool_arms(
    metrics_cls: type[BaseModel],
    real: Sequence[BaseModel | None],
    intervals: IntervalSettings | None,
    *,
    shuffled: Sequence[BaseModel | None] | None = None,
    random_sae: Sequence[BaseModel | None] | None = None,
    random_model: Sequence[BaseModel | None] | None = None,
    reseeds: Mapping[int, Sequence[BaseModel | None]] | None = None,
) -> dict[str, Any]:
    """The arms of a run pooled under one set of names, for every eval that has them.

    ``real``: the per-latent metrics of the SAE's latents (None where a latent has none);
    ``shuffled``: the same latents' metrics with another latent's explanation, paired with
    ``real`` (None: the run had no shuffled control); ``random_sae``: the random SAE's
    frequency-matched latents (None: no random-SAE arm); ``random_model``: those of the SAE
    trained on the random-weights model (None: no random-model arm); ``reseeds``: seed -> per-latent
    metrics, the run's own seed first (None: no ``--seeds``).
    """
    return {
        "real": pool(metrics_cls, real, intervals),
        "shuffled_control": pool(metrics_cls, shuffled, intervals)
        if shuffled is not None
        else None,
        "real_minus_shuffled_control": pool_paired_difference(
            metrics_cls, list(zip(real, shuffled, strict=True)), intervals
        )
        if shuffled is not None
        else None,
        **_matched_pools(metrics_cls, real, RANDOM_SAE, random_sae, intervals),
        **_matched_pools(metrics_cls, real, RANDOM_MODEL, random_model, intervals),
        "reseed": seed_spread({s: list(m) for s, m in reseeds.items()}, metrics_cls)
        if reseeds
        else None,
    }


def _matched_pools(
    metrics_cls: type[BaseModel],
    real: Sequence[BaseModel | None],
    name: str,
    matched: Sequence[BaseModel | None] | None,
    intervals: IntervalSettings | None,
) -> dict[str, Any]:
    """``<name>_control`` and ``real_minus_<name>`` of the frequency-matched arm ``name``
    (a difference of means: its latents are not the SAE's); None each without that arm."""
    if matched is None:
        return {f"{name}_control": None, f"real_minus_{name}": None}
    return {
        f"{name}_control": pool(metrics_cls, matched, intervals),
        f"real_minus_{name}": pool_difference(metrics_cls, real, matched, intervals),
    }


def pooled_arms(run: ScoredRun, metrics_cls: type[BaseModel]) -> dict[str, Any]:
    """The headline score (``real``) and every field of :class:`ControlledMetrics`, pooled
    from ``run`` with the config's interval settings."""
    reseeds = None
    if run.reseed_results:
        runs = {run.config.seed: run.results, **run.reseed_results}
        reseeds = {seed: _metrics(results) for seed, results in runs.items()}
    return pool_arms(
        metrics_cls,
        _metrics(run.results),
        run.config.intervals,
        shuffled=_metrics(run.results, control=True),
        random_sae=_matched(run, RANDOM_SAE),
        random_model=_matched(run, RANDOM_MODEL),
        reseeds=reseeds,
    ) | {"n_without_control": sum(r.control_note is not None for r in run.results)}


def _matched(run: ScoredRun, name: str) -> list[Any] | None:
    """The per-latent metrics of the matched-control arm ``name`` (None: no such arm)."""
    results = run.arm_results(name)
    return _metrics(results) if results else None


MetricsOutT = TypeVar("MetricsOutT", bound=BaseModel)


def controlled_metrics(
    run: ScoredRun,
    metrics_cls: type[BaseModel],
    output_cls: type[MetricsOutT],
    headline: str,
    **extra: Any,
) -> MetricsOutT:
    """An eval's metrics: its headline score (field ``headline`` of ``output_cls``) and every
    control pooled from ``run`` (:func:`pooled_arms`), the latent counts and ``extra``."""
    arms = pooled_arms(run, metrics_cls)
    return output_cls(**{headline: arms.pop("real")}, **arms, **run.counts(), **extra)
