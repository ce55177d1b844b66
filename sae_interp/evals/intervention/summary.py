"""How the intervention eval pools: its per-latent numbers (:class:`InterventionScores`,
each field declared pooled) for the SAE, the shuffled-explanation control and the random
SAE, pooled by the arms pooling every eval shares, and the latent counts by status."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sae_interp.evals.common.latent_loop import RECORD_STATUS_COUNTS, status_counts
from sae_interp.evals.common.summary import pool_arms
from sae_interp.evals.intervention.eval_config import InterventionEvalConfig
from sae_interp.evals.intervention.eval_output import (
    InterventionMetrics,
    InterventionScores,
    LatentInterventionResult,
)
from sae_interp.framework.failures import FAILED_STATUSES


def latent_scores(result: LatentInterventionResult) -> InterventionScores | None:
    if result.score is None or math.isnan(result.score) or result.strength is None:
        return None
    s = result.strength
    return InterventionScores(
        score=result.score, kl=s.kl, converged=float(s.converged), delta=s.delta
    )


def control_scores(result: LatentInterventionResult) -> InterventionScores | None:
    """A scored latent's numbers with its shuffled-explanation score in place of its own
    (the same steering, so the same KL, convergence and strength)."""
    scores = latent_scores(result)
    if scores is None or result.control_score is None or math.isnan(result.control_score):
        return None
    return scores.model_copy(update={"score": result.control_score})


def summarise(
    cfg: InterventionEvalConfig,
    results: Sequence[LatentInterventionResult],
    random_results: Sequence[LatentInterventionResult] | None,
    usage: dict[str, Any],
) -> InterventionMetrics:
    """The pooled scores: the SAE's, each control's and real - control, with intervals
    (``random_results`` None: the run had no random-SAE arm)."""
    real = [latent_scores(r) for r in results]
    arms = pool_arms(
        InterventionScores,
        real,
        cfg.intervals,
        shuffled=[control_scores(r) for r in results] if cfg.shuffled_control else None,
        random_sae=[latent_scores(r) for r in random_results]
        if random_results is not None
        else None,
    )
    return InterventionMetrics(
        intervention=arms["real"],
        shuffled_control=arms["shuffled_control"],
        real_minus_shuffled_control=arms["real_minus_shuffled_control"],
        random_sae_control=arms["random_sae_control"],
        real_minus_random_sae=arms["real_minus_random_sae"],
        target_kl=cfg.steering.target_kl,
        n_scored=sum(m is not None for m in real),
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
