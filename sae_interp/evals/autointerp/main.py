"""The autointerp detection eval: explain -> judge held-out windows -> score, with the
shuffled-explanation control in the same run (the shared loop in :mod:`sae_interp.evals.common`
does the rest: caching, explanation reuse, per-latent JSONL, resume, dry runs)."""

from __future__ import annotations

from typing import Any

from sae_interp.evals.autointerp.eval_config import AutoInterpEvalConfig
from sae_interp.evals.autointerp.eval_output import (
    AutoInterpEvalOutput,
    AutoInterpMetrics,
    LatentDetectionResult,
)
from sae_interp.evals.common import (
    EvalResources,
    ScoredEval,
    ScoredRun,
    definition_for,
    pooled_arms,
)
from sae_interp.framework.runner import EvalContext, run_per_sae
from sae_interp.scorers.base import LatentScorer
from sae_interp.scorers.detection import DETECTION_MODES
from sae_interp.scorers.judge import JudgeMetrics, resolved_mode
from sae_interp.scorers.saebench_detection import SaeBenchMetrics


def detection_mode(cfg: AutoInterpEvalConfig) -> str:
    """The configured mode, ``auto`` resolved for the run's LLM."""
    return resolved_mode(cfg.detection.mode, cfg.llm.resolved_backend())


def make_scorer(ctx: EvalContext[Any], resources: EvalResources | None) -> LatentScorer:
    cfg: AutoInterpEvalConfig = ctx.config
    service = resources.service if resources is not None else None
    factory = DETECTION_MODES.get(detection_mode(cfg))
    return factory(ctx.tokenizer, service, cfg.detection, cfg.seed)


def summarise(run: ScoredRun) -> AutoInterpMetrics:
    bench = detection_mode(run.config) == "saebench"
    arms = pooled_arms(run, SaeBenchMetrics if bench else JudgeMetrics)
    real = arms.pop("real")
    return AutoInterpMetrics(
        detection=None if bench else real,
        saebench=real if bench else None,
        **arms,
        **run.counts(),
    )


SPEC = ScoredEval(
    eval_type_id="autointerp",
    config_cls=AutoInterpEvalConfig,
    output_cls=AutoInterpEvalOutput,
    result_cls=LatentDetectionResult,
    make_scorer=make_scorer,
    summarise=summarise,
    table_columns=(
        "detection.balanced_accuracy",
        "saebench.accuracy",
        "detection.auroc",
        "shuffled_control.balanced_accuracy",
        "shuffled_control.accuracy",
        "real_minus_shuffled_control.balanced_accuracy",
        "real_minus_shuffled_control.accuracy",
        "random_sae_control.balanced_accuracy",
        "random_sae_control.accuracy",
        "n_scored",
        "n_too_rare",
        "n_dead",
        "n_failed_explanations",
        "llm_usage.cost_usd",
    ),
)
DEFINITION = definition_for(SPEC)


def run_eval(
    config: AutoInterpEvalConfig | None = None, **kwargs: Any
) -> list[AutoInterpEvalOutput]:
    """Run autointerp detection on every SAE of ``config`` (``kwargs``: ``model=``, ``saes=``)."""
    return run_per_sae(DEFINITION, config or AutoInterpEvalConfig(), **kwargs)
