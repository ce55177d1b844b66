"""What the explanation-based evals share: their config fields, their resources (one LLM
service, opened only when a call is needed, plus shared local models) and the one loop that
explains latents and scores them against the random-explanation control."""

from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.evals.common.resources import EvalResources, open_resources
from sae_interp.evals.common.scored import (
    SCORED_EVALS,
    ExplainedCounts,
    LatentScore,
    ScoredEval,
    ScoredRun,
    definition_for,
    plan_scored,
    pool_means,
    run_scored,
)

__all__ = [
    "SCORED_EVALS",
    "EvalResources",
    "ExplainedCounts",
    "ExplainedEvalConfig",
    "LatentScore",
    "ScoredEval",
    "ScoredRun",
    "definition_for",
    "open_resources",
    "plan_scored",
    "pool_means",
    "run_scored",
]
