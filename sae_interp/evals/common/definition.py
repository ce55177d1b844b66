"""An explanation-based eval as the runner sees it: its :class:`EvalDefinition` (run, plan,
resources) built from its :class:`ScoredEval`, and the random-SAE arm written as a result
of its own."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from sae_interp.evals.common.planning import plan_scored
from sae_interp.evals.common.resources import open_resources
from sae_interp.evals.common.scored import SCORED_EVALS, ScoredEval, ScoredRun, run_scored
from sae_interp.framework.output import utc_now
from sae_interp.framework.runner import (
    EVALS,
    EvalContext,
    EvalDefinition,
    EvalResult,
    build_output,
    result_path,
)

logger = logging.getLogger(__name__)


def save_random_sae_result(spec: ScoredEval, run: ScoredRun, started: datetime) -> Path | None:
    """The random-SAE arm of ``run`` written as a result of its own, next to the SAE's
    (SAE spec ``<spec>#random_sae_<seed>``, per-latent details included), so that
    ``sae-interp compare`` can test the SAE against its random control latent by latent.
    None when the run had no random-SAE arm."""
    if run.random_sae_ctx is None:
        return None
    arm_ctx = run.random_sae_ctx
    arm = ScoredRun(config=run.config, results=run.random_sae_results, llm_usage={})
    result = EvalResult(
        spec.summarise(arm), arm.results, failures=arm.failures(), n_ok=len(arm.metrics)
    )
    path = result_path(run.config, spec.eval_type_id, arm_ctx.sae_spec)
    build_output(EVALS.get(spec.eval_type_id), arm_ctx, result, started).save(path)
    logger.info("%s: random-SAE control written to %s", spec.eval_type_id, path)
    return path


def definition_for(spec: ScoredEval) -> EvalDefinition[Any]:
    """Register ``spec`` and the runner's :class:`EvalDefinition` built from it."""
    SCORED_EVALS.register(spec.eval_type_id, spec)

    def run(ctx: EvalContext[Any]) -> EvalResult:
        started = utc_now()
        scored = run_scored(ctx, spec)
        save_random_sae_result(spec, scored, started)
        return EvalResult(
            metrics=spec.summarise(scored),
            details=scored.results,
            failures=scored.failures(),
            n_ok=len(scored.metrics),
        )

    return EVALS.register(
        spec.eval_type_id,
        EvalDefinition(
            eval_type_id=spec.eval_type_id,
            config_cls=spec.config_cls,
            output_cls=spec.output_cls,
            run=run,
            resources=lambda cfg: open_resources(cfg.llm, cfg.seed),
            plan=lambda ctx: plan_scored(ctx, spec),
            table_columns=spec.table_columns,
            latent_metrics=lambda result: result.metrics,
        ),
    )
