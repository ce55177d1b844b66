"""The agentic explanation eval. Per latent: the agent (``sae_interp.agentic``) explains it
by experiments on the live model; then its explanation, the one-shot explanation of the same
latent, and another latent's one-shot explanation (shuffled-explanation control) are evaluated
by generation and prediction. With ``--random-sae-control`` the same runs on a random SAE's
frequency-matched latents; with ``--seeds`` the evaluations are drawn again per seed. Results
(with the agent's full transcript, token usage and cost) are appended per latent; a killed
run resumes at the next unfinished latent."""

from __future__ import annotations

import logging
from typing import Any

from sae_interp.evals.agentic.arms import agent_work, random_sae_arm, reseed_arms, run_agent_latents
from sae_interp.evals.agentic.eval_config import AgenticEvalConfig
from sae_interp.evals.agentic.eval_output import (
    AgenticEvalOutput,
    LatentAgenticResult,
)
from sae_interp.evals.agentic.plan import plan_agentic
from sae_interp.evals.agentic.summary import scores, summarise
from sae_interp.evals.common import EvalResources, open_resources
from sae_interp.evals.common.records import prepare, refresh_explanations
from sae_interp.evals.common.usage import usage_delta
from sae_interp.explainers.registry import explanations
from sae_interp.framework.failures import failure_counts, merge_counts
from sae_interp.framework.runner import (
    EVALS,
    CompareSpec,
    EvalContext,
    EvalDefinition,
    EvalResult,
    ExtraResult,
    run_per_sae,
)

logger = logging.getLogger(__name__)


def run_agentic(ctx: EvalContext[AgenticEvalConfig]) -> EvalResult:
    cfg, resources = ctx.config, ctx.resources
    assert isinstance(resources, EvalResources)
    usage_start = resources.usage()
    setup = prepare(ctx, LatentAgenticResult, cfg.force, refresh_explanations(cfg))
    one_shot = explanations(cfg, setup.usable, ctx.tokenizer, resources, setup.store, setup.given)
    work = agent_work(ctx, resources, setup.records, one_shot)
    results = run_agent_latents(ctx, setup.latents, setup.results, work, "agentic")
    random_sae: list[LatentAgenticResult] = []
    extra = []
    if cfg.random_sae_control:
        random_ctx, random_sae = random_sae_arm(ctx, resources, setup)
        alone = EvalResult(
            summarise(random_sae, {}, cfg.intervals),
            random_sae,
            failures=failure_counts(random_sae),
            n_ok=sum(r.status == "ok" for r in random_sae),
        )
        extra.append(ExtraResult(EVALS.get("agentic"), random_ctx, alone))
    reseeds = reseed_arms(ctx, resources, setup, results, one_shot)
    usage = usage_delta(usage_start, resources.usage())
    arms = [results, random_sae, *reseeds.values()]
    return EvalResult(
        metrics=summarise(results, usage, cfg.intervals, random_sae, reseeds, cfg.seed),
        details=results,
        failures=merge_counts(failure_counts(arm) for arm in arms),
        n_ok=sum(r.status == "ok" for r in results),
        extra=extra,
    )


DEFINITION = EVALS.register(
    "agentic",
    EvalDefinition(
        eval_type_id="agentic",
        config_cls=AgenticEvalConfig,
        output_cls=AgenticEvalOutput,
        runs_whole_in_all=True,
        run=run_agentic,
        compare=CompareSpec(latent_metrics=lambda result: scores(result.agentic)),
        resources=lambda cfg: open_resources(cfg.llm, cfg.seed),
        plan=plan_agentic,
        table_columns=(
            "agentic.prediction_pearson",
            "one_shot.prediction_pearson",
            "shuffled_control.prediction_pearson",
            "agentic.generation_success_rate",
            "one_shot.generation_success_rate",
            "shuffled_control.generation_success_rate",
            "random_sae_control.prediction_pearson",
            "random_sae_control.generation_success_rate",
            "n_concluded",
            "n_forced",
            "mean_tests",
            "llm_usage.calls",
        ),
    ),
)


def run_eval(config: AgenticEvalConfig | None = None, **kwargs: Any) -> list[AgenticEvalOutput]:
    """Run the agentic eval on every SAE of ``config`` (``kwargs``: ``model=``, ``saes=``)."""
    return run_per_sae(DEFINITION, config or AgenticEvalConfig(), **kwargs)
