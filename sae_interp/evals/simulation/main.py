"""The simulation eval: explain -> simulate every test window (activating + negatives) ->
correlation with the true activations, with the shuffled-explanation control in the same run
(the shared loop in :mod:`sae_interp.evals.common` does caching, explanation reuse,
per-latent JSONL, resume and dry runs)."""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from pathlib import Path
from typing import Any

from sae_interp.base.paths import slugify
from sae_interp.evals.common import (
    EvalResources,
    ScoredEval,
    ScoredRun,
    definition_for,
    pooled_arms,
    run_scored,
    scored_result,
)
from sae_interp.evals.simulation.eval_config import SimulationEvalConfig
from sae_interp.evals.simulation.eval_output import (
    LatentSimulationResult,
    SimulationEvalMetrics,
    SimulationEvalOutput,
    SimulationSummary,
)
from sae_interp.evals.simulation.table import simulation_table
from sae_interp.framework.failures import merge_counts
from sae_interp.framework.runner import (
    EVALS,
    EvalContext,
    EvalResult,
    ExtraResult,
    result_path,
    run_per_sae,
)
from sae_interp.scorers.base import LatentScorer
from sae_interp.scorers.simulation import SimulationMetrics, SimulationScorer, simulator_for

logger = logging.getLogger(__name__)


def make_scorer(ctx: EvalContext[Any], resources: EvalResources | None) -> LatentScorer:
    cfg: SimulationEvalConfig = ctx.config
    return SimulationScorer(simulator_for(cfg.simulator, cfg.llm, ctx.tokenizer, resources))


def summarise(run: ScoredRun) -> SimulationEvalMetrics:
    windows = [w for r in run.results if r.outcome is not None for w in r.outcome.windows]
    every = windows + [
        w for r in run.results if r.control_outcome is not None for w in r.control_outcome.windows
    ]
    arms = pooled_arms(run, SimulationMetrics)
    return SimulationEvalMetrics(
        simulation=arms.pop("real"),
        **arms,
        n_undefined=sum(m.correlation is None for m in run.metrics),
        failed_window_fraction=(
            sum(w.predicted is None for w in windows) / len(windows) if windows else None
        ),
        simulation_modes=dict(Counter(w.mode or "none" for w in every)),
        all_at_once_prompt_tokens=sum(w.prompt_tokens for w in every),
        **run.counts(),
    )


SPEC = ScoredEval(
    eval_type_id="simulation",
    config_cls=SimulationEvalConfig,
    output_cls=SimulationEvalOutput,
    result_cls=LatentSimulationResult,
    make_scorer=make_scorer,
    summarise=summarise,
    table_columns=(
        "simulation.correlation",
        "shuffled_control.correlation",
        "real_minus_shuffled_control.correlation",
        "random_sae_control.correlation",
        "simulation.per_window_correlation",
        "n_scored",
        "n_undefined",
        "n_failed_explanations",
        "failed_window_fraction",
    ),
)


def variant_result_path(config: SimulationEvalConfig, sae_spec: str, name: str) -> Path:
    """Where a compared run's own result goes, beside the SAE's (``compare`` pairs the two
    over the same latents)."""
    main = result_path(config, SPEC.eval_type_id, sae_spec)
    return main.with_name(f"{main.stem}__{slugify(name)}.json")


def run(ctx: EvalContext[Any]) -> EvalResult:
    """The configured run, then every compared variant on the same latents (own per-latent
    files, shared explanation stores and caches, own result files); per-latent details are
    the main run's."""
    result = scored_result(SPEC, run_scored(ctx, SPEC))
    metrics = result.metrics
    assert isinstance(metrics, SimulationEvalMetrics)
    failures = [result.failures]
    for name, config in ctx.config.variants().items():
        logger.info("simulation: compared run %s", name)
        variant_ctx = dataclasses.replace(ctx, config=config)
        variant = scored_result(SPEC, run_scored(variant_ctx, SPEC))
        variant.extra.clear()  # a variant's random-SAE arm is pooled, not written
        full = variant.metrics
        metrics.comparison[name] = SimulationSummary(
            **{k: getattr(full, k) for k in SimulationSummary.model_fields}
        )
        failures.append(variant.failures)
        path = variant_result_path(ctx.config, ctx.sae_spec, name)
        result.extra.append(ExtraResult(EVALS.get(SPEC.eval_type_id), variant_ctx, variant, path))
    result.failures = merge_counts(failures)
    return result


DEFINITION = definition_for(SPEC, run=run, table=simulation_table)


def run_eval(
    config: SimulationEvalConfig | None = None, **kwargs: Any
) -> list[SimulationEvalOutput]:
    """Run the simulation eval on every SAE of ``config`` (``kwargs``: ``model=``, ``saes=``)."""
    return run_per_sae(DEFINITION, config or SimulationEvalConfig(), **kwargs)
