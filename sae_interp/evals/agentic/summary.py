"""How the agentic eval pools: each explanation's numbers (:class:`ExplanationScores`, each
field declared pooled) for the agent's, the one-shot and the control explanation, the agent's
minus each of the others per latent, and the latent counts by status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sae_interp.evals.agentic.eval_output import (
    AgenticMetrics,
    ExplanationEvaluation,
    ExplanationScores,
    LatentAgenticResult,
)
from sae_interp.evals.common.latent_loop import RECORD_STATUS_COUNTS, status_counts
from sae_interp.stats import IntervalSettings, pool, pool_paired_difference


def scores(evaluation: ExplanationEvaluation | None) -> ExplanationScores | None:
    return evaluation.scores() if evaluation is not None else None


def summarise(
    results: Sequence[LatentAgenticResult],
    usage: dict[str, Any],
    intervals: IntervalSettings | None = None,
) -> AgenticMetrics:
    """The agent's, the one-shot and the control explanations' scores pooled, and the
    agent's minus each of the others per latent, with intervals."""
    agentic = [scores(r.agentic) for r in results]
    one_shot = [scores(r.one_shot) for r in results]
    control = [scores(r.random_explanation_control) for r in results]
    conclusions = [r.transcript.conclusion for r in results if r.transcript is not None]
    tests = [len(r.transcript.tests) for r in results if r.transcript is not None]
    return AgenticMetrics(
        agentic=pool(ExplanationScores, agentic, intervals),
        one_shot=pool(ExplanationScores, one_shot, intervals),
        random_explanation_control=pool(ExplanationScores, control, intervals),
        agentic_minus_one_shot=pool_paired_difference(
            ExplanationScores, list(zip(agentic, one_shot, strict=True)), intervals
        ),
        agentic_minus_control=pool_paired_difference(
            ExplanationScores, list(zip(agentic, control, strict=True)), intervals
        ),
        n_concluded=sum(c is not None and not c.forced for c in conclusions),
        n_forced=sum(c is not None and c.forced for c in conclusions),
        mean_tests=sum(tests) / len(tests) if tests else 0.0,
        llm_usage=usage,
        **status_counts(results, **RECORD_STATUS_COUNTS, n_no_conclusion="no_conclusion"),
    )
