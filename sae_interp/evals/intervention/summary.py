"""How the intervention eval pools: its per-latent numbers (:class:`InterventionScores`,
each field declared pooled), the shuffled-explanation control and the random-SAE control on
the latent score, each with its interval, and the latent counts by status."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sae_interp.evals.common.latent_loop import RECORD_STATUS_COUNTS, status_counts
from sae_interp.evals.intervention.eval_config import InterventionEvalConfig
from sae_interp.evals.intervention.eval_output import (
    InterventionMetrics,
    InterventionScores,
    LatentInterventionResult,
)
from sae_interp.framework.failures import FAILED_STATUSES
from sae_interp.stats import (
    IntervalSettings,
    bootstrap_mean,
    difference_of_means,
    paired_difference,
    pool,
)


def latent_scores(result: LatentInterventionResult) -> InterventionScores | None:
    if result.score is None or math.isnan(result.score) or result.strength is None:
        return None
    s = result.strength
    return InterventionScores(
        score=result.score, kl=s.kl, converged=float(s.converged), delta=s.delta
    )


def summarise(
    cfg: InterventionEvalConfig,
    results: Sequence[LatentInterventionResult],
    random_results: Sequence[LatentInterventionResult],
    usage: dict[str, Any],
) -> InterventionMetrics:
    """The pooled scores: the SAE's, each control's and real - control, with intervals."""
    settings: IntervalSettings = cfg.intervals
    scored = [m for m in map(latent_scores, results) if m is not None]
    real = [m.score for m in scored]
    control = [r.control_score for r in results if latent_scores(r) is not None]
    random_sae = [m.score for m in map(latent_scores, random_results) if m is not None]
    explanation_control, sae_control = cfg.shuffled_control, cfg.random_sae_control
    return InterventionMetrics(
        intervention=pool(InterventionScores, scored, settings),
        shuffled_control=bootstrap_mean(control, settings) if explanation_control else None,
        real_minus_shuffled_control=paired_difference(real, control, settings)
        if explanation_control
        else None,
        random_sae_control=pool(
            InterventionScores, list(map(latent_scores, random_results)), settings
        ),
        real_minus_random_sae=difference_of_means(real, random_sae, settings)
        if sae_control
        else None,
        target_kl=cfg.steering.target_kl,
        n_scored=len(scored),
        n_not_converged=sum(r.strength is not None and not r.strength.converged for r in results),
        llm_usage=usage,
        **status_counts(
            results,
            **RECORD_STATUS_COUNTS,
            n_no_prompts="no_prompts",
            n_failed_explanations="explanation_failed",
        ),
    )


def failures_by_kind(results: Sequence[LatentInterventionResult]) -> dict[str, int]:
    """Latents left unfinished because every explanation failed, by the kind of the first
    failure (the LLM layer's classification)."""
    kinds = [
        next((e.error_kind for e in r.explanations if e.error_kind), None) or "unknown"
        for r in results
        if r.status in FAILED_STATUSES
    ]
    return dict(sorted(Counter(kinds).items()))
