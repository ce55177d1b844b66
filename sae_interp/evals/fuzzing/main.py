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
from sae_interp.scorers.base import LatentScorer
from sae_interp.scorers.fuzzing import FUZZING_MODES
from sae_interp.scorers.judge import JudgeMetrics, resolved_mode


def make_scorer(ctx: EvalContext[Any], resources: EvalResources | None) -> LatentScorer:
    cfg: FuzzingEvalConfig = ctx.config
    service = resources.service if resources is not None else None
    mode = resolved_mode(cfg.fuzzing.mode, cfg.llm.resolved_backend())
    return FUZZING_MODES.get(mode)(ctx.tokenizer, service, cfg.fuzzing, cfg.seed)


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
        "shuffled_control.balanced_accuracy",
        "real_minus_shuffled_control.balanced_accuracy",
        "random_sae_control.balanced_accuracy",
        "shuffled_control.auroc",
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
    return run_per_sae(DEFINITION, config or FuzzingEvalConfig(), **kwargs)
