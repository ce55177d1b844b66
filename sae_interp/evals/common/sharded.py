"""The stages of a latent-sharded run of an explanation-based eval
(:mod:`sae_interp.distributed.shards`): what one shard does on its latents, storing
per-latent records and its LLM usage only; the merge stage is the ordinary run."""

from __future__ import annotations

import dataclasses
from typing import Any

from sae_interp.distributed.shards import LatentShard, Stage, current_shard, on_stored
from sae_interp.evals.common.arms import arms, matched_controls, prepare_shards, score_arm
from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.evals.common.records import Setup, prepare
from sae_interp.evals.common.resources import EvalResources
from sae_interp.evals.common.scored_models import ScoredEval
from sae_interp.evals.common.usage import StageUsage, forget_shards_usage
from sae_interp.explainers import registry as explainers
from sae_interp.framework.runner import EvalContext


def stage_uses_model(spec: ScoredEval, config: Any, stage: Stage) -> bool:
    """Whether ``stage`` of a sharded run of ``spec`` computes with the model: ``prepare``
    collects, ``merge`` is the ordinary run (it collects what is missing); ``explain`` only
    reads records and asks the judge, and so does ``score`` unless the scorer runs a model
    in-process. Those run on a CPU and never load the model's weights."""
    if stage is Stage.explain:
        return False
    if stage is Stage.score:
        return spec.scores_with_model(config)
    return True


def run_shard(
    ctx: EvalContext[Any], spec: ScoredEval, stage: Stage, resources: EvalResources | None = None
) -> None:
    """One stage of a latent-sharded run of ``spec`` on ``ctx``'s SAE: ``prepare`` collects
    the caches the shards read and, with ``--force``, empties every store of the run;
    ``explain`` explains this shard's latents, and its part of each matched control's;
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
    usage = StageUsage(ctx, resources.usage)
    # kept as it goes (after every answered call and stored record): a killed worker's
    # calls count too
    with on_stored(usage.write), resources.on_call(usage.write):
        setup = prepare(ctx, spec.result_cls, fresh=False)  # (its stores report to it)
        if stage is Stage.explain:
            _explain(ctx, spec, resources, setup, shard)
        else:
            results = setup.results
            pending = {latent for latent in shard.pick(setup.latents) if latent not in results}
            usage.n_scored = lambda: len(pending & results.done())
            for arm in arms(ctx, spec, resources, setup):
                arm = dataclasses.replace(arm, latents=shard.pick(arm.latents))
                score_arm(spec, arm, resources)
    usage.write()


def _explain(
    ctx: EvalContext[Any],
    spec: ScoredEval,
    resources: EvalResources,
    setup: Setup,
    shard: LatentShard,
) -> None:
    """Explain the shard's latents, and its part of each matched control's."""
    cfg: ExplainedEvalConfig = ctx.config
    if not spec.needs_explanation:
        return
    tokenizer = ctx.tokenizer
    mine = set(shard.pick(setup.latents))
    usable = [r for r in setup.usable if r.latent in mine]
    explainers.explanations(cfg, usable, tokenizer, resources, setup.store, setup.given)
    for control in matched_controls(cfg):
        matched = control.setup(ctx, setup, False)
        theirs = set(shard.pick(matched.latents))
        usable = [r for r in matched.usable if r.latent in theirs]
        explainers.explanations(cfg, usable, tokenizer, resources, matched.store)
