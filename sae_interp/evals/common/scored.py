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

from sae_interp.evals.common.arms import arms, score_arm
from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.evals.common.records import prepare, refresh_explanations
from sae_interp.evals.common.resources import EvalResources
from sae_interp.evals.common.scored_models import ArmResults, ScoredEval, ScoredRun
from sae_interp.framework.runner import EvalContext
from sae_interp.llm.report import SNAPSHOT_PREFIXES
from sae_interp.llm.service import UsageReport


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
    fresh_explanations = refresh_explanations(cfg) and spec.needs_explanation
    setup = prepare(ctx, spec.result_cls, fresh=cfg.force, fresh_explanations=fresh_explanations)
    n_pending = sum(latent not in setup.results for latent in setup.latents)
    scored = [
        ArmResults(arm.name, arm.ctx, arm.seed, score_arm(spec, arm, resources))
        for arm in arms(ctx, spec, resources, setup)
    ]
    usage = usage_delta(usage_before, resources.usage())
    return ScoredRun(config=cfg, arms=scored, llm_usage=with_per_latent(usage, n_pending))


def usage_delta(before: UsageReport, after: UsageReport) -> dict[str, Any]:
    """The usage between two reports; the prices and the ``batch_*`` fields (the command's
    batches as a whole) are taken as they are."""
    b, a = before.as_dict(), after.as_dict()
    return {
        k: (
            a[k] - b[k]
            if isinstance(a[k], (int, float))
            and not isinstance(a[k], bool)
            and not k.startswith(SNAPSHOT_PREFIXES)
            else a[k]
        )
        for k in a
    }


def with_per_latent(usage: dict[str, Any], n_latents: int) -> dict[str, Any]:
    """``usage`` plus prompt tokens per latent scored in this run (explanations included)
    and the fraction of prompt tokens the backend's prefix cache served (0 where it reports
    none)."""
    prompt = usage.get("prompt_tokens", 0)
    cached = usage.get("cached_prompt_tokens", 0)
    return usage | {
        "prompt_tokens_per_latent": prompt / n_latents if n_latents else 0.0,
        "cached_prompt_fraction": cached / prompt if prompt else 0.0,
    }
