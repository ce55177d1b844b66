"""The stages of a latent-sharded run of an explanation-based eval
(:mod:`sae_interp.distributed.shards`): what one shard does on its latents, storing
per-latent records and its LLM usage only; the merge stage is the ordinary run."""

from __future__ import annotations

import dataclasses
from typing import Any

from sae_interp.distributed.shards import LatentShard, Stage, current_shard
from sae_interp.evals.common.arms import arms, prepare_shards, random_sae_setup, score_arm
from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.evals.common.records import Setup, prepare
from sae_interp.evals.common.resources import EvalResources
from sae_interp.evals.common.scored_models import ScoredEval
from sae_interp.evals.common.usage import forget_shards_usage, record_shard_usage, usage_delta
from sae_interp.explainers import registry as explainers
from sae_interp.framework.runner import EvalContext


def run_shard(
    ctx: EvalContext[Any], spec: ScoredEval, stage: Stage, resources: EvalResources | None = None
) -> None:
    """One stage of a latent-sharded run of ``spec`` on ``ctx``'s SAE: ``prepare`` collects
    the caches the shards read and, with ``--force``, empties every store of the run;
    ``explain`` explains this shard's latents, and its random SAE's matched latents;
    ``score`` scores them in every arm, each control drawn from all the stored
    explanations, as :func:`~sae_interp.evals.common.scored.run_scored` draws it."""
    resources = resources or ctx.resources
    assert isinstance(resources, EvalResources)
    if stage is Stage.prepare:
        prepare_shards(ctx, spec)
        forget_shards_usage(ctx)
        return
    shard = current_shard()
    assert shard is not None, f"the {stage.value} stage works on a shard"
    before = resources.usage()
    setup = prepare(ctx, spec.result_cls, fresh=False)
    if stage is Stage.explain:
        _explain(ctx, spec, resources, setup, shard)
        n_scored = 0
    else:
        n_scored = sum(latent not in setup.results for latent in shard.pick(setup.latents))
        for arm in arms(ctx, spec, resources, setup):
            score_arm(spec, dataclasses.replace(arm, latents=shard.pick(arm.latents)), resources)
    record_shard_usage(ctx, usage_delta(before, resources.usage()), n_scored)


def _explain(
    ctx: EvalContext[Any],
    spec: ScoredEval,
    resources: EvalResources,
    setup: Setup,
    shard: LatentShard,
) -> None:
    """Explain the shard's latents, and its part of the random SAE's."""
    cfg: ExplainedEvalConfig = ctx.config
    if not spec.needs_explanation:
        return
    tokenizer = ctx.model.tokenizer
    mine = set(shard.pick(setup.latents))
    usable = [r for r in setup.usable if r.latent in mine]
    explainers.explanations(cfg, usable, tokenizer, resources, setup.store, setup.given)
    if cfg.random_sae_control:
        control = random_sae_setup(ctx, setup)
        theirs = set(shard.pick(control.latents))
        usable = [r for r in control.usable if r.latent in theirs]
        explainers.explanations(cfg, usable, tokenizer, resources, control.store)
