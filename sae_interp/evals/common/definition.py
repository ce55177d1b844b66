"""An explanation-based eval as the runner sees it: the one
:class:`~sae_interp.framework.runner.EvalDefinition` built from its :class:`ScoredEval`
(run, plan, resources), with each frequency-matched control arm returned as a result of
its own."""

from __future__ import annotations

import dataclasses
from typing import Any

from sae_interp.evals.common.arms import MATCHED_CONTROLS
from sae_interp.evals.common.planning import plan_scored
from sae_interp.evals.common.resources import open_resources
from sae_interp.evals.common.scored import run_scored
from sae_interp.evals.common.scored_models import REAL, ScoredEval, ScoredRun
from sae_interp.evals.common.sharded import run_shard, stage_uses_model
from sae_interp.framework.runner import (
    EVALS,
    CompareSpec,
    EvalContext,
    EvalDefinition,
    EvalResult,
    ExtraResult,
)


def scored_result(spec: ScoredEval, run: ScoredRun) -> EvalResult:
    """The result of ``run``: the summary, per-latent details, unfinished latents of every
    arm, and each matched control arm the run had (random SAE, random model) as a result of
    its own, written beside the SAE's under the control's SAE spec (``<spec>#random_sae_<seed>``,
    or the SAE trained on the random-weights model) with its per-latent details, so that
    ``sae-interp compare`` can test the SAE against it latent by latent."""
    extra = []
    for matched in MATCHED_CONTROLS:
        control = run.arm(matched.name)
        if control is None:
            continue
        # the control's arm pooled as a run of its own: its latents are the "real" ones
        arm = ScoredRun(config=run.config, arms=[dataclasses.replace(control, name=REAL)])
        arm_result = EvalResult(
            spec.summarise(arm), arm.results, failures=arm.failures(), n_ok=len(arm.metrics)
        )
        extra.append(ExtraResult(EVALS.get(spec.eval_type_id), control.ctx, arm_result))
    return EvalResult(
        metrics=spec.summarise(run),
        details=run.results,
        failures=run.failures(),
        n_ok=len(run.metrics),
        extra=extra,
    )


def definition_for(spec: ScoredEval, **overrides: Any) -> EvalDefinition[Any, Any]:
    """Register and return the one definition of the explanation-based eval ``spec``;
    ``overrides`` replace its default fields (e.g. simulation's ``run`` and ``table``)."""

    def run(ctx: EvalContext[Any]) -> EvalResult:
        return scored_result(spec, run_scored(ctx, spec))

    fields: dict[str, Any] = {
        "eval_type_id": spec.eval_type_id,
        "config_cls": spec.config_cls,
        "output_cls": spec.output_cls,
        "run": run,
        "resources": lambda cfg: open_resources(cfg.llm, cfg.seed),
        "plan": lambda ctx: plan_scored(ctx, spec),
        "table_columns": spec.table_columns,
        "compare": CompareSpec(latent_metrics=lambda result: result.metrics),
        "scored": spec,
        "shard": lambda ctx, stage: run_shard(ctx, spec, stage),
        "stage_uses_model": lambda cfg, stage: stage_uses_model(spec, cfg, stage),
    }
    return EVALS.register(spec.eval_type_id, EvalDefinition(**(fields | overrides)))
