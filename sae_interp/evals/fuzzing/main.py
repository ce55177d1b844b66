"""The fuzzing eval: are the highlighted tokens the ones the explanation describes?"""

from __future__ import annotations

from typing import Any

from sae_interp.evals.common import (
    EvalResources,
    ScoredEval,
    ScoredRun,
    controlled_metrics,
    definition_for,
)
from sae_interp.evals.fuzzing.eval_config import FuzzingEvalConfig
from sae_interp.evals.fuzzing.eval_output import (
    FuzzingEvalOutput,
    FuzzingMetrics,
    LatentFuzzingResult,
)
from sae_interp.framework.runner import EvalContext, run_per_sae
from sae_interp.scorers import per_example_prompts
from sae_interp.scorers.base import LatentScorer
from sae_interp.scorers.fuzzing import FuzzingScorer, shown_examples
from sae_interp.scorers.judge import JudgeMetrics
from sae_interp.scorers.per_example import PerExampleScorer


def make_scorer(ctx: EvalContext[Any], resources: EvalResources | None) -> LatentScorer:
    cfg: FuzzingEvalConfig = ctx.config
    service = resources.service if resources is not None else None
    tokenizer = ctx.model.tokenizer
    if cfg.fuzzing.mode == "per_example":
        settings = cfg.fuzzing
        return PerExampleScorer(
            tokenizer,
            service,
            settings,
            cfg.seed,
            lambda record: shown_examples(record, tokenizer, settings.fuzz_type, cfg.seed),
            per_example_prompts.FUZZING,
        )
    return FuzzingScorer(tokenizer, service, cfg.fuzzing, cfg.seed)


def summarise(run: ScoredRun) -> FuzzingMetrics:
    return controlled_metrics(run, JudgeMetrics, FuzzingMetrics, "fuzzing")


SPEC = ScoredEval(
    eval_type_id="fuzzing",
    config_cls=FuzzingEvalConfig,
    output_cls=FuzzingEvalOutput,
    result_cls=LatentFuzzingResult,
    make_scorer=make_scorer,
    summarise=summarise,
    table_columns=(
        "fuzzing.balanced_accuracy",
        "fuzzing.auroc",
        "random_explanation_control.balanced_accuracy",
        "real_minus_explanation_control.balanced_accuracy",
        "random_sae_control.balanced_accuracy",
        "random_explanation_control.auroc",
        "n_scored",
        "n_too_rare",
        "n_dead",
        "n_failed_explanations",
        "llm_usage.cost_usd",
    ),
)
DEFINITION = definition_for(SPEC)


def run_eval(config: FuzzingEvalConfig | None = None, **kwargs: Any) -> list[FuzzingEvalOutput]:
    """Run fuzzing on every SAE of ``config`` (``kwargs``: ``model=``, ``saes=``)."""
    return run_per_sae(DEFINITION, config or FuzzingEvalConfig(), **kwargs)  # type: ignore[return-value]
