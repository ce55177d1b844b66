"""What the explanation-based evals share: their config fields, their resources (one LLM
service, opened only when a call is needed, plus shared local models), their records, the
per-latent loop (resume, groups, storing, status counts), the arms of a run (the SAE, a
random SAE, other seeds) and the loop that explains and scores them, and the pooled summary
with intervals."""

from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.evals.common.definition import definition_for, scored_result
from sae_interp.evals.common.latent_loop import run_latents, status_counts
from sae_interp.evals.common.planning import plan_scored
from sae_interp.evals.common.resources import EvalResources, open_resources
from sae_interp.evals.common.scored import run_scored
from sae_interp.evals.common.scored_models import LatentScore, ScoredEval, ScoredRun
from sae_interp.evals.common.summary import (
    ControlledMetrics,
    SeedSpread,
    controlled_metrics,
    pooled_arms,
)

__all__ = [
    "ControlledMetrics",
    "EvalResources",
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
    "scored_result",
    "status_counts",
]
