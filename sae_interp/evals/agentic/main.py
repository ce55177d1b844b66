"""The agentic explanation eval. Per latent: the agent (``sae_interp.agentic``) explains it
by experiments on the live model; then its explanation, the one-shot explanation of the same
latent, and another latent's one-shot explanation (random-explanation control) are evaluated
by generation and prediction. Results (with the agent's full transcript, token usage and
cost) are appended per latent; a killed run resumes at the next unfinished latent."""

from __future__ import annotations

import logging
from typing import Any

from sae_interp.evals.agentic.eval_config import AgenticEvalConfig
from sae_interp.evals.agentic.eval_output import (
    AgenticEvalOutput,
    LatentAgenticResult,
)
from sae_interp.evals.agentic.plan import plan_agentic
from sae_interp.evals.agentic.stages import explain_and_evaluate
from sae_interp.evals.agentic.summary import scores, summarise
from sae_interp.evals.common import EvalResources, open_resources
from sae_interp.evals.common.latent_loop import run_latents
from sae_interp.evals.common.scored import (
    control_sources,
    explanations_of,
    prepare,
    refresh_explanations,
    usage_delta,
)
from sae_interp.framework.failures import failure_counts
from sae_interp.framework.runner import EVALS, EvalContext, EvalDefinition, EvalResult, run_per_sae

logger = logging.getLogger(__name__)


def run_agentic(ctx: EvalContext[AgenticEvalConfig]) -> EvalResult:
    cfg, resources = ctx.config, ctx.resources
    assert isinstance(resources, EvalResources)
    usage_start = resources.usage()
    setup = prepare(ctx, LatentAgenticResult, cfg.force, refresh_explanations(cfg))
    one_shot = explanations_of(
        True, cfg, setup.usable, ctx.model.tokenizer, resources, setup.store, setup.given
    )
    controls = control_sources(one_shot, cfg.random_control, cfg.seed) or {}

    def work(latents: list[int]) -> list[LatentAgenticResult]:
        return [
            explain_and_evaluate(ctx, resources, setup.records[latent], one_shot, controls)
            for latent in latents
        ]

    # latents run at once up to the LLM's concurrency (the model tools take turns)
    overlap = cfg.llm.effective_concurrency()
    results = run_latents(
        setup.latents, setup.results, work, group=1, desc="agentic", overlap=overlap
    )
    usage = usage_delta(usage_start, resources.usage())
    return EvalResult(
        metrics=summarise(results, usage, cfg.intervals),
        details=results,
        failures=failure_counts(results),
        n_ok=sum(r.status == "ok" for r in results),
    )


DEFINITION = EVALS.register(
    "agentic",
    EvalDefinition(
        eval_type_id="agentic",
        config_cls=AgenticEvalConfig,
        output_cls=AgenticEvalOutput,
        run=run_agentic,
        latent_metrics=lambda result: scores(result.agentic),
        resources=lambda cfg: open_resources(cfg.llm, cfg.seed),
        plan=plan_agentic,
        table_columns=(
            "agentic.prediction_pearson",
            "one_shot.prediction_pearson",
            "random_explanation_control.prediction_pearson",
            "agentic.generation_success_rate",
            "one_shot.generation_success_rate",
            "random_explanation_control.generation_success_rate",
            "n_concluded",
            "n_forced",
            "mean_tests",
            "llm_usage.calls",
        ),
    ),
)


def run_eval(config: AgenticEvalConfig | None = None, **kwargs: Any) -> list[AgenticEvalOutput]:
    """Run the agentic eval on every SAE of ``config`` (``kwargs``: ``model=``, ``saes=``)."""
    return run_per_sae(DEFINITION, config or AgenticEvalConfig(), **kwargs)  # type: ignore[return-value]
