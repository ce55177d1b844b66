"""The simulation eval: explain -> simulate every test window (activating + negatives) ->
correlation with the true activations, with the random-explanation control in the same run
(the shared loop in :mod:`sae_interp.evals.common` does caching, explanation reuse,
per-latent JSONL, resume and dry runs)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sae_interp.core.runner import EvalContext, run_per_sae
from sae_interp.evals.common import (
    EvalResources,
    ScoredEval,
    ScoredRun,
    definition_for,
    pool_means,
)
from sae_interp.evals.simulation.eval_config import SimulationEvalConfig
from sae_interp.evals.simulation.eval_output import (
    Interval,
    LatentSimulationResult,
    PooledSimulation,
    SimulationEvalMetrics,
    SimulationEvalOutput,
)
from sae_interp.llm.prompt_logprobs import CompletionsPromptLogprobs
from sae_interp.llm.settings import LLMSettings
from sae_interp.scorers.base import LatentScorer
from sae_interp.scorers.simulation import (
    SimulationScorer,
    Simulator,
    SimulatorSettings,
)
from sae_interp.scorers.simulation_metrics import bootstrap_interval


def simulator_for(
    settings: SimulatorSettings, llm: LLMSettings, tokenizer: Any, resources: EvalResources | None
) -> Simulator:
    """The simulator of an eval. Planning (no resources) assumes all_at_once for the local
    LLM (its llama.cpp server returns prompt log-probs) and chat elsewhere under ``auto``."""
    if resources is None:
        if settings.mode == "auto":
            local = llm.resolved_backend() == "local"
            settings = settings.model_copy(update={"mode": "all_at_once" if local else "chat"})
        return Simulator(settings, tokenizer)
    service = resources.service
    client = None
    base_url = getattr(service.backend, "base_url", None)
    if settings.mode != "chat" and (base_url is not None or llm.model):
        client = resources.shared(
            "simulation:prompt_logprobs",
            lambda: CompletionsPromptLogprobs(
                service.backend.model,
                base_url,
                llm.api_key_env,
                llm.concurrency,
                llm.timeout_s,
            ),
        )
    return Simulator(settings, tokenizer, service, client)


def make_scorer(ctx: EvalContext[Any], resources: EvalResources | None) -> LatentScorer:
    cfg: SimulationEvalConfig = ctx.config
    return SimulationScorer(simulator_for(cfg.simulator, cfg.llm, ctx.model.tokenizer, resources))


def _interval(values: list[float | None], seed: int) -> Interval:
    mean, low, high, n = bootstrap_interval(values, seed)
    return Interval(mean=mean, low=low, high=high, n=n)


def summarise(run: ScoredRun) -> SimulationEvalMetrics:
    real, control = run.metrics, run.control_metrics
    seed = run.config.seed
    paired = [
        r.metrics.correlation - r.control_metrics.correlation
        for r in run.results
        if r.metrics is not None
        and r.control_metrics is not None
        and r.metrics.correlation is not None
        and r.control_metrics.correlation is not None
    ]
    windows = [w for r in run.results if r.outcome is not None for w in r.outcome.windows]
    return SimulationEvalMetrics(
        simulation=pool_means(PooledSimulation, real),
        random_explanation_control=pool_means(PooledSimulation, control),
        correlation_ci=_interval([m.correlation for m in real], seed),
        control_correlation_ci=_interval([m.correlation for m in control], seed),
        correlation_minus_control=_interval(list(paired), seed),
        n_undefined=sum(m.correlation is None for m in real),
        failed_window_fraction=(
            sum(w.predicted is None for w in windows) / len(windows) if windows else None
        ),
        simulation_modes=dict(Counter(w.mode or "none" for w in windows)),
        all_at_once_prompt_tokens=sum(w.prompt_tokens for w in windows),
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
        "random_explanation_control.correlation",
        "correlation_minus_control.low",
        "correlation_minus_control.high",
        "simulation.per_window_correlation",
        "n_scored",
        "n_undefined",
        "n_failed_explanations",
        "failed_window_fraction",
    ),
)
DEFINITION = definition_for(SPEC)


def run_eval(
    config: SimulationEvalConfig | None = None, **kwargs: Any
) -> list[SimulationEvalOutput]:
    """Run the simulation eval on every SAE of ``config`` (``kwargs``: ``model=``, ``saes=``)."""
    return run_per_sae(DEFINITION, config or SimulationEvalConfig(), **kwargs)  # type: ignore[return-value]
