"""The intervention eval: does an explanation predict what a latent does to the outputs?

A declaration over the shared per-latent loop: its stages (steer -> explain from the outputs
-> score with the scoring LM; then the shuffled-explanation control) live in
:mod:`sae_interp.evals.intervention.stages`, and the random-SAE control runs the same stages
on a random SAE of the same shape. Per-latent results are appended to JSONL files as each
group of latents finishes; a killed run resumes where it stopped."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from sae_interp.evals.common import EvalResources, open_resources
from sae_interp.evals.common.arms import random_sae_spec
from sae_interp.evals.common.planning import plan_from_requests
from sae_interp.evals.common.usage import usage_delta
from sae_interp.evals.intervention.eval_config import InterventionEvalConfig
from sae_interp.evals.intervention.eval_output import (
    InterventionEvalOutput,
    LatentInterventionResult,
)
from sae_interp.evals.intervention.stages import InterventionArm, planned_requests
from sae_interp.evals.intervention.summary import failures_by_kind, latent_scores, summarise
from sae_interp.framework.runner import (
    EVALS,
    CompareSpec,
    EvalContext,
    EvalDefinition,
    EvalResult,
    ExtraResult,
    LLMPlan,
    run_per_sae,
)
from sae_interp.saes.random_sae import random_like
from sae_interp.scoring_lm import load_scoring_lm

logger = logging.getLogger(__name__)


def run_intervention(ctx: EvalContext[InterventionEvalConfig]) -> EvalResult:
    cfg, resources = ctx.config, ctx.resources
    assert isinstance(resources, EvalResources)
    usage_before = resources.usage()
    lm = resources.shared(
        f"scoring_lm:{cfg.scoring_lm.model_dump_json()}",
        lambda: load_scoring_lm(cfg.scoring_lm, ctx.model, cfg.model),
    )
    real = InterventionArm(ctx, lm, resources)
    results = real.run()
    if cfg.shuffled_control:
        results = real.control(results)
    random_results: list[LatentInterventionResult] | None = None
    extra = []
    if cfg.random_sae_control:
        random_ctx = dataclasses.replace(
            ctx,
            sae=random_like(ctx.sae, cfg.random_sae_seed),
            sae_spec=random_sae_spec(ctx.sae_spec, cfg.random_sae_seed),
        )
        logger.info("intervention: random-SAE control (%s)", random_ctx.sae_spec)
        arm = InterventionArm(random_ctx, lm, resources, "_random_sae", match_to=real)
        random_results = arm.run()
        extra.append(random_sae_result(random_ctx, random_results))
    usage = usage_delta(usage_before, resources.usage())
    metrics = summarise(cfg, results, random_results, usage)
    return EvalResult(
        metrics=metrics,
        details=results,
        failures=failures_by_kind([*results, *(random_results or [])]),
        n_ok=metrics.n_scored,
        extra=extra,
    )


def random_sae_result(
    ctx: EvalContext[InterventionEvalConfig], results: list[LatentInterventionResult]
) -> ExtraResult:
    """The random-SAE arm as a result of its own (SAE spec ``<spec>#random_sae_<seed>``),
    so that ``sae-interp compare`` can test the SAE against it latent by latent."""
    alone = ctx.config.model_copy(update={"shuffled_control": False, "random_sae_control": False})
    metrics = summarise(alone, results, None, {})
    result = EvalResult(metrics, results, failures=failures_by_kind(results), n_ok=metrics.n_scored)
    return ExtraResult(EVALS.get("intervention"), ctx, result)


def plan_intervention(ctx: EvalContext[InterventionEvalConfig]) -> LLMPlan:
    """Explainer calls of latents not finished yet (the random-SAE control is assumed to
    need as many); prompts are estimated with placeholder tokens."""
    cfg = ctx.config
    requests, n_finished = planned_requests(ctx)
    requests *= 2 if cfg.random_sae_control else 1
    notes = f"{n_finished} finished latents reused; random-SAE control estimated as equal"
    return plan_from_requests("intervention", ctx.sae_spec, cfg.llm, requests, notes)


DEFINITION = EVALS.register(
    "intervention",
    EvalDefinition(
        eval_type_id="intervention",
        config_cls=InterventionEvalConfig,
        output_cls=InterventionEvalOutput,
        runs_whole_in_all=True,
        run=run_intervention,
        resources=lambda cfg: open_resources(cfg.llm, cfg.seed),
        plan=plan_intervention,
        compare=CompareSpec(latent_metrics=latent_scores),
        table_columns=(
            "intervention.score",
            "shuffled_control.score",
            "real_minus_shuffled_control.score",
            "random_sae_control.score",
            "real_minus_random_sae.score",
            "intervention.kl",
            "intervention.converged",
            "n_scored",
            "n_not_converged",
            "n_failed_explanations",
            "llm_usage.calls",
        ),
    ),
)


def run_eval(
    config: InterventionEvalConfig | None = None, **kwargs: Any
) -> list[InterventionEvalOutput]:
    """Run the intervention eval on every SAE of ``config`` (``kwargs``: ``model=``, ``saes=``)."""
    return run_per_sae(DEFINITION, config or InterventionEvalConfig(), **kwargs)
