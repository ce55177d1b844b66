"""The intruder eval: which of these windows belongs to another latent? Explanation-free,
so the shared loop runs it without an explainer and without the shuffled-explanation
control; chance (1 / windows per prompt) and the random-SAE control are its references."""

from __future__ import annotations

from typing import Any

from sae_interp.evals.common import (
    EvalResources,
    ScoredEval,
    ScoredRun,
    controlled_metrics,
    definition_for,
)
from sae_interp.evals.common.records import latent_records
from sae_interp.evals.intruder.eval_config import IntruderEvalConfig
from sae_interp.evals.intruder.eval_output import (
    IntruderEvalOutput,
    IntruderMetricsOut,
    LatentIntruderResult,
)
from sae_interp.framework.runner import EvalContext, run_per_sae
from sae_interp.scorers.intruder import IntruderMetrics, IntruderScorer


def make_scorer(ctx: EvalContext[Any], resources: EvalResources | None) -> IntruderScorer:
    cfg: IntruderEvalConfig = ctx.config
    service = resources.service if resources is not None else None
    _, _, records = latent_records(ctx, cfg.sampling)  # the cache and records are reused
    return IntruderScorer(ctx.tokenizer, service, cfg.intruder, cfg.seed, records)


def summarise(run: ScoredRun) -> IntruderMetricsOut:
    return controlled_metrics(run, IntruderMetrics, IntruderMetricsOut, "intruder")


SPEC = ScoredEval(
    eval_type_id="intruder",
    config_cls=IntruderEvalConfig,
    output_cls=IntruderEvalOutput,
    result_cls=LatentIntruderResult,
    make_scorer=make_scorer,
    summarise=summarise,
    table_columns=(
        "intruder.accuracy",
        "random_sae_control.accuracy",
        "real_minus_random_sae.accuracy",
        "intruder.raw_accuracy",
        "intruder.p_correct",
        "intruder.chance",
        "intruder.answered_last",
        "n_scored",
        "n_too_rare",
        "n_dead",
        "llm_usage.calls",
    ),
    needs_explanation=False,
)
DEFINITION = definition_for(SPEC)


def run_eval(config: IntruderEvalConfig | None = None, **kwargs: Any) -> list[IntruderEvalOutput]:
    """Run the intruder eval on every SAE of ``config`` (``kwargs``: ``model=``, ``saes=``)."""
    return run_per_sae(DEFINITION, config or IntruderEvalConfig(), **kwargs)
