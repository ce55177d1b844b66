"""Configuration of the simulation eval."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.scorers.simulation import SimulatorSettings


class SimulationEvalConfig(ExplainedEvalConfig):
    """Simulation (explain -> simulate -> score): from the explanation alone a simulator LM
    predicts the latent's activation at every token of held-out windows (activating and
    negatives); score = correlation with the true activations, against shuffled
    explanations."""

    eval_type_id: ClassVar[str] = "simulation"

    simulator: SimulatorSettings = Field(default_factory=SimulatorSettings)
