"""Scoring output-side explanations: surprisal (nats, summed over the explanation's tokens)
of each explanation after a passage made of a test prompt and its continuation, clean vs
steered. An explanation's score is the mean over test prompts of surprisal(clean) −
surprisal(steered); the prefix of each passage is computed once for all explanations."""

from __future__ import annotations

from collections.abc import Sequence

from sae_interp.interventions.metrics import explanation_score
from sae_interp.scorers import intervention_prompts as prompts
from sae_interp.scoring_lm import ScoringLM


def surprisals(lm: ScoringLM, passage: str, explanations: Sequence[str]) -> list[float]:
    """−Σ log p(explanation tokens | few-shot prefix, passage, template), per explanation."""
    results = lm.continuation_logprobs(prompts.prefix(passage), list(explanations))
    return [-sum(r.logprobs) for r in results]


def score_explanations(
    lm: ScoringLM,
    clean_passages: Sequence[str],
    steered_passages: Sequence[str],
    explanations: Sequence[str],
) -> list[float]:
    """One score per explanation (nats; positive = the steered text makes it more expected)."""
    if not explanations:
        return []
    clean = [surprisals(lm, p, explanations) for p in clean_passages]
    steered = [surprisals(lm, p, explanations) for p in steered_passages]
    return [
        explanation_score([row[j] for row in clean], [row[j] for row in steered])
        for j in range(len(explanations))
    ]
