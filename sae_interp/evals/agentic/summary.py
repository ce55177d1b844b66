"""How the agentic eval pools: each explanation's numbers (:class:`ExplanationScores`, each
field declared pooled) for the agent's, the one-shot and the shuffled explanation, with the
agent's as the real arm of the arms pooling every eval shares (shuffled control, random SAE);
the agent's minus the one-shot per latent; the reseed spread of every explanation; and the
latent counts by status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sae_interp.evals.agentic.eval_output import (
    AgenticMetrics,
    ExplanationEvaluation,
    ExplanationScores,
    LatentAgenticResult,
)
from sae_interp.evals.common.latent_loop import RECORD_STATUS_COUNTS, status_counts
from sae_interp.evals.common.summary import SeedSpread, pool_arms, seed_spread
from sae_interp.stats import IntervalSettings, pool, pool_paired_difference


def scores(evaluation: ExplanationEvaluation | None) -> ExplanationScores | None:
    return evaluation.scores() if evaluation is not None else None


def _scores_of(
    results: Sequence[LatentAgenticResult], which: str
) -> list[ExplanationScores | None]:
    return [scores(getattr(r, which)) for r in results]


EXPLANATIONS = ("agentic", "one_shot", "shuffled_control")


def summarise(
    results: Sequence[LatentAgenticResult],
    usage: dict[str, Any],
    intervals: IntervalSettings | None = None,
    random_sae: Sequence[LatentAgenticResult] = (),
    reseeds: Mapping[int, Sequence[LatentAgenticResult]] | None = None,
    seed: int = 0,
) -> AgenticMetrics:
    """The agent's, the one-shot and the control explanations' scores pooled, and the
    agentic minus each of the others per latent, with intervals; with ``random_sae``, the
    same on the random SAE's latents and the difference of means; with ``reseeds``, each
    pooled score's spread between seeds."""
    agentic = _scores_of(results, "agentic")
    one_shot = _scores_of(results, "one_shot")
    control = _scores_of(results, "shuffled_control")
    conclusions = [r.transcript.conclusion for r in results if r.transcript is not None]
    tests = [len(r.transcript.tests) for r in results if r.transcript is not None]
    arms = pool_arms(
        ExplanationScores,
        agentic,
        intervals,
        shuffled=control,
        random_sae=_scores_of(random_sae, "agentic") if random_sae else None,
    )
    spread: dict[str, SeedSpread] | None = None
    if reseeds:
        runs = {seed: list(results), **{s: list(r) for s, r in reseeds.items()}}
        spread = {}
        for which in EXPLANATIONS:
            per_seed = {s: _scores_of(r, which) for s, r in runs.items()}
            spread |= seed_spread(per_seed, ExplanationScores, prefix=f"{which}.")
    return AgenticMetrics(
        agentic=arms["real"],
        one_shot=pool(ExplanationScores, one_shot, intervals),
        shuffled_control=arms["shuffled_control"],
        agentic_minus_one_shot=pool_paired_difference(
            ExplanationScores, list(zip(agentic, one_shot, strict=True)), intervals
        ),
        real_minus_shuffled_control=arms["real_minus_shuffled_control"],
        random_sae_control=arms["random_sae_control"],
        random_sae_one_shot=pool(ExplanationScores, _scores_of(random_sae, "one_shot"), intervals)
        if random_sae
        else None,
        real_minus_random_sae=arms["real_minus_random_sae"],
        reseed=spread,
        n_concluded=sum(c is not None and not c.forced for c in conclusions),
        n_forced=sum(c is not None and c.forced for c in conclusions),
        mean_tests=sum(tests) / len(tests) if tests else 0.0,
        llm_usage=usage,
        **status_counts(results, **RECORD_STATUS_COUNTS, n_no_conclusion="no_conclusion"),
    )
