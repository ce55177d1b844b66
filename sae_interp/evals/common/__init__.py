"""What the explanation-based evals share: their config fields, their resources (one LLM
service, opened only when a call is needed, plus shared local models), the per-latent loop
(resume, groups, storing, status counts), the loop that explains latents and scores them
against their controls, and the pooled summary with intervals."""

from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.evals.common.definition import definition_for
from sae_interp.evals.common.latent_loop import run_latents, status_counts
from sae_interp.evals.common.planning import plan_scored
from sae_interp.evals.common.resources import EvalResources, open_resources
from sae_interp.evals.common.scored import SCORED_EVALS, ScoredEval, ScoredRun, run_scored
from sae_interp.evals.common.scored_models import ExplainedCounts, LatentScore
from sae_interp.evals.common.summary import (
    ControlledMetrics,
    SeedSpread,
    controlled_metrics,
    pooled_arms,
)

__all__ = [
    "SCORED_EVALS",
    "ControlledMetrics",
    "EvalResources",
    "ExplainedCounts",
    "ExplainedEvalConfig",
    "LatentScore",
    "ScoredEval",
    "ScoredRun",
    "SeedSpread",
    "controlled_metrics",
    "definition_for",
    "open_resources",
    "plan_scored",
    "pooled_arms",
    "run_latents",
    "run_scored",
    "status_counts",
]
