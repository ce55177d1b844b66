"""Output schema of the simulation eval."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sae_interp.evals.common.scored_models import LatentScore
from sae_interp.evals.common.summary import ControlledMetrics
from sae_interp.evals.simulation.eval_config import SimulationEvalConfig
from sae_interp.explainers.cost import MeanExplanationCost
from sae_interp.framework.output import BaseEvalOutput
from sae_interp.scorers.simulation import SimulationMetrics, SimulationOutcome
from sae_interp.stats import pooled_model

PooledSimulation = pooled_model(SimulationMetrics)


class SimulationSummary(BaseModel):
    """One compared run: its pooled scores next to its own shuffled-explanation control."""

    simulation: PooledSimulation | None  # type: ignore[valid-type]
    shuffled_control: PooledSimulation | None  # type: ignore[valid-type]
    real_minus_shuffled_control: PooledSimulation | None  # type: ignore[valid-type]
    n_scored: int
    n_undefined: int
    n_failed_explanations: int
    llm_usage: dict[str, float | int | bool] = Field(default_factory=dict)
    all_at_once_prompt_tokens: int = 0
    mean_explanation_cost: MeanExplanationCost | None = None


class SimulationEvalMetrics(ControlledMetrics[PooledSimulation]):  # type: ignore[valid-type]
    simulation: PooledSimulation | None = Field(  # type: ignore[valid-type]
        description="Pooled over scored latents, with intervals."
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
