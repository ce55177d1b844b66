"""The surprisal eval: loss drop of a base LM on activating text when told the explanation."""

from __future__ import annotations

from typing import Any

from sae_interp.evals.common import (
    EvalResources,
    ScoredEval,
    ScoredRun,
    controlled_metrics,
    definition_for,
)
from sae_interp.evals.surprisal.eval_config import SurprisalEvalConfig
from sae_interp.evals.surprisal.eval_output import (
    LatentSurprisalResult,
    SurprisalEvalMetrics,
    SurprisalEvalOutput,
)
from sae_interp.framework.runner import EvalContext, run_per_sae
from sae_interp.scorers.surprisal import SurprisalMetrics, SurprisalScorer
from sae_interp.scoring_lm import load_scoring_lm


def make_scorer(ctx: EvalContext[Any], resources: EvalResources | None) -> SurprisalScorer:
    cfg: SurprisalEvalConfig = ctx.config
    lm = None
    if resources is not None:
        lm = resources.shared(
            f"scoring_lm:{cfg.scoring_lm.model_dump_json()}",
            lambda: load_scoring_lm(cfg.scoring_lm, ctx.lazy_model, cfg.model),
        )
    return SurprisalScorer(lm, ctx.tokenizer, cfg.surprisal)


def summarise(run: ScoredRun) -> SurprisalEvalMetrics:
    cfg: SurprisalEvalConfig = run.config
    scoring_lm = f"{cfg.scoring_lm.backend}:{cfg.scoring_lm.model}"
    return controlled_metrics(
        run, SurprisalMetrics, SurprisalEvalMetrics, "surprisal", scoring_lm=scoring_lm
    )


SPEC = ScoredEval(
    eval_type_id="surprisal",
    config_cls=SurprisalEvalConfig,
    output_cls=SurprisalEvalOutput,
    result_cls=LatentSurprisalResult,
    make_scorer=make_scorer,
    summarise=summarise,
    scores_with_model=lambda cfg: cfg.scoring_lm.backend == "model",
    table_columns=(
        "surprisal.auroc",
        "surprisal.auroc_activating_tokens",
        "shuffled_control.auroc",
        "real_minus_shuffled_control.auroc",
        "random_sae_control.auroc",
        "shuffled_control.auroc_activating_tokens",
        "n_scored",
        "n_too_rare",
        "n_dead",
        "n_failed_explanations",
    ),
)
DEFINITION = definition_for(SPEC)


def run_eval(config: SurprisalEvalConfig | None = None, **kwargs: Any) -> list[SurprisalEvalOutput]:
    """Run surprisal on every SAE of ``config`` (``kwargs``: ``model=``, ``saes=``)."""
    return run_per_sae(DEFINITION, config or SurprisalEvalConfig(), **kwargs)
