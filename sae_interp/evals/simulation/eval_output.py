"""Output schema of the simulation eval."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sae_interp.core.output import BaseEvalOutput
from sae_interp.evals.common.scored import ExplainedCounts, LatentScore
from sae_interp.evals.simulation.eval_config import SimulationEvalConfig
from sae_interp.scorers.simulation import SimulationMetrics, SimulationOutcome


class PooledSimulation(BaseModel):
    """Means over scored latents of the defined per-latent scores."""

    correlation: float | None = Field(default=None, description="The primary score.")
    r_squared: float | None = None
    abs_dev_explained: float | None = None
    per_window_correlation: float | None = None
    n_latents: int


class Interval(BaseModel):
    mean: float | None
    low: float | None = Field(description="2.5% bootstrap quantile over latents (seeded).")
    high: float | None = Field(description="97.5% bootstrap quantile over latents.")
    n: int = Field(description="Latents with a defined value.")


class SimulationSummary(BaseModel):
    """One compared run: its pooled scores next to its own shuffled-explanation control."""

    simulation: PooledSimulation | None
    random_explanation_control: PooledSimulation | None
    correlation_ci: Interval
    control_correlation_ci: Interval
    correlation_minus_control: Interval
    n_scored: int
    n_undefined: int
    n_failed_explanations: int
    llm_usage: dict[str, float | int | bool] = Field(default_factory=dict)
    all_at_once_prompt_tokens: int = 0


class SimulationEvalMetrics(ExplainedCounts):
    simulation: PooledSimulation | None
    random_explanation_control: PooledSimulation | None = Field(
        description="The same simulation with explanations shuffled across latents."
    )
    correlation_ci: Interval = Field(description="Pooled correlation with its interval.")
    control_correlation_ci: Interval
    correlation_minus_control: Interval = Field(
        description="Paired difference real - control over latents where both are defined."
    )
    n_undefined: int = Field(description="Scored latents whose correlation is undefined.")
    failed_window_fraction: float | None = Field(
        description="Windows (real explanations) that could not be simulated."
    )
    simulation_modes: dict[str, int] = Field(
        description="Windows simulated in each mode (real and control explanations)."
    )
    all_at_once_prompt_tokens: int = Field(
        description="Prompt tokens of the all_at_once calls (not in llm_usage)."
    )
    comparison: dict[str, SimulationSummary] = Field(
        default_factory=dict,
        description="The same latents scored with one setting changed (--compare-explainers, "
        "--compare-negatives), each with its own control.",
    )


LatentSimulationResult = LatentScore[SimulationOutcome, SimulationMetrics]


class SimulationEvalOutput(
    BaseEvalOutput[SimulationEvalConfig, SimulationEvalMetrics, LatentSimulationResult]
):
    """Result of ``sae_interp.evals.simulation``."""
