"""Configuration of the intervention eval."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from sae_interp.activations.sampling import SamplingConfig
from sae_interp.evals.common.config import LatentEvalConfig
from sae_interp.explainers.output_explainer import OutputExplainerSettings
from sae_interp.framework.config import with_default
from sae_interp.interventions.steering import SteeringSettings
from sae_interp.scoring_lm import ScoringLMSettings


def _default_sampling() -> SamplingConfig:
    # train/test prompts per latent; the published sizes are 10 / 40 (pass them on a GPU)
    return SamplingConfig(n_train=5, n_test=10, n_negatives=0, min_activating=15)


class InterventionEvalConfig(LatentEvalConfig):
    """Intervention: steer each latent at the SAE's hook to a target KL, let an LLM explain
    what the steering does to the outputs, and score the explanation by how much more
    expected it becomes after steered vs clean continuations; with shuffled-explanation and
    random-SAE controls in the same run."""

    eval_type_id: ClassVar[str] = "intervention"

    n_latents: int = with_default(LatentEvalConfig, "n_latents", default=5)
    sampling: SamplingConfig = with_default(
        LatentEvalConfig, "sampling", default_factory=_default_sampling
    )
    random_sae_control: bool = with_default(LatentEvalConfig, "random_sae_control", default=True)
    steering: SteeringSettings = Field(default_factory=SteeringSettings)
    explainer: OutputExplainerSettings = Field(default_factory=OutputExplainerSettings)
    scoring_lm: ScoringLMSettings = Field(default_factory=ScoringLMSettings)

    @model_validator(mode="after")
    def _no_batches(self) -> InterventionEvalConfig:
        self.llm.refuse_batches(
            "the intervention eval", "batch mode covers the explanation-based evals"
        )
        return self
