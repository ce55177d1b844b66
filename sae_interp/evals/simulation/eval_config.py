"""Configuration of the simulation eval."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from sae_interp.activations.negatives import NEGATIVE_SAMPLERS
from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.explainers.registry import EXPLAINERS


class SimulationEvalConfig(ExplainedEvalConfig):
    """Simulation (explain -> simulate -> score): from the explanation alone a simulator LM
    predicts the latent's activation at every token of held-out windows (activating and
    negatives); score = correlation with the true activations, against shuffled
    explanations."""

    eval_type_id: ClassVar[str] = "simulation"

    compare_explainers: list[str] = Field(
        default_factory=list,
        description="Also score these explainer kinds on the same latents (e.g. tree), each "
        "with its own shuffled-explanation control, side by side in the metrics.",
    )
    compare_negatives: list[str] = Field(
        default_factory=list,
        description="Also score with these negative sources (e.g. similar_negative), each "
        "with its control, side by side in the metrics.",
    )

    @field_validator("compare_explainers")
    @classmethod
    def _known_explainers(cls, value: list[str]) -> list[str]:
        for name in value:
            EXPLAINERS.get(name)
        return value

    @field_validator("compare_negatives")
    @classmethod
    def _known_negatives(cls, value: list[str]) -> list[str]:
        for name in value:
            NEGATIVE_SAMPLERS.get(name)
        return value

    def variants(self) -> dict[str, SimulationEvalConfig]:
        """The compared runs by name (``explainer_kind=tree``, ``negative_strategy=...``)."""
        out = {}
        for kind in self.compare_explainers:
            if kind != self.explainer_kind:
                out[f"explainer_kind={kind}"] = self.model_copy(
                    update={
                        "explainer_kind": kind,
                        "compare_explainers": [],
                        "compare_negatives": [],
                    }
                )
        for name in self.compare_negatives:
            if name != self.sampling.negative_strategy:
                sampling = self.sampling.model_copy(update={"negative_strategy": name})
                out[f"negative_strategy={name}"] = self.model_copy(
                    update={"sampling": sampling, "compare_explainers": [], "compare_negatives": []}
                )
        return out
