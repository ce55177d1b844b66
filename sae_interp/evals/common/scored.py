"""The one loop of the explanation-based evals.

For one SAE: latent cache (shared) -> latents -> records (train / test / negatives) ->
explanations (stored, reused across evals) -> each arm (the SAE's latents, a random SAE's,
other seeds') scored, every latent with its own explanation and, in the same call, with
another latent's (shuffled-explanation control) -> per-latent results appended to a JSONL
file as each group of latents finishes (a killed run resumes where it stopped) -> pooled
metrics. An eval contributes only its scorer and its summary.
"""

from __future__ import annotations

from typing import Any

from sae_interp.distributed.shards import forgets
from sae_interp.evals.common.arms import arms, forgets_explanations, score_arm
from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.evals.common.records import prepare
from sae_interp.evals.common.resources import EvalResources
from sae_interp.evals.common.scored_models import ArmResults, ScoredEval, ScoredRun
from sae_interp.evals.common.usage import add_usage, shards_usage, usage_delta, with_per_latent
from sae_interp.framework.runner import EvalContext


def run_scored(
    ctx: EvalContext[Any], spec: ScoredEval, resources: EvalResources | None = None
) -> ScoredRun:
    """Explain and score the latents of ``ctx``'s SAE, then every other arm the config asks
    for; results are stored as they finish. ``resources``: the run's shared resources
    (default: the context's)."""
    cfg: ExplainedEvalConfig = ctx.config
    resources = resources or ctx.resources
    assert isinstance(resources, EvalResources)
    usage_before = resources.usage()
    fresh_explanations = forgets_explanations(cfg, spec)
    setup = prepare(
        ctx, spec.result_cls, fresh=forgets(cfg.force), fresh_explanations=fresh_explanations
    )
    n_pending = sum(latent not in setup.results for latent in setup.latents)
    scored = [
        ArmResults(arm.name, arm.ctx, arm.seed, score_arm(spec, arm, resources))
        for arm in arms(ctx, spec, resources, setup)
    ]
    usage = usage_delta(usage_before, resources.usage())
    shards, n_sharded = shards_usage(ctx)  # a sharded run's merge: what its shards used
    usage = with_per_latent(add_usage(usage, shards), n_pending + n_sharded)
    return ScoredRun(config=cfg, arms=scored, llm_usage=usage)
