"""Configuration of the intervention eval."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from sae_interp.activations.sampling import SamplingConfig
from sae_interp.explainers.output_explainer import OutputExplainerSettings
from sae_interp.framework.config import BaseEvalConfig
from sae_interp.interventions.steering import SteeringSettings
from sae_interp.llm.settings import LLMSettings
from sae_interp.scoring_lm import ScoringLMSettings


def _default_sampling() -> SamplingConfig:
    # train/test prompts per latent; the published sizes are 10 / 40 (pass them on a GPU)
    return SamplingConfig(n_train=5, n_test=10, n_negatives=0, min_activating=15)


class InterventionEvalConfig(BaseEvalConfig):
    """Intervention: steer each latent at the SAE's hook to a target KL, let an LLM explain
    what the steering does to the outputs, and score the explanation by how much more
    expected it becomes after steered vs clean continuations; with shuffled-explanation and
    random-SAE controls in the same run."""

    eval_type_id: ClassVar[str] = "intervention"

    corpus: str = Field(default="embedded:validation", description="Where prompts come from.")
    n_tokens: int = Field(default=65_536, gt=0, description="Tokens to collect latents over.")
    latents: list[int] | None = Field(default=None, description="Latent ids (default: random).")
    n_latents: int = Field(default=5, gt=0, description="Random live latents if none are given.")
    sampling: SamplingConfig = Field(
        default_factory=_default_sampling,
        description="Activating windows: n_train prompts for the explainer, n_test for scoring.",
    )
    steering: SteeringSettings = Field(default_factory=SteeringSettings)
    explainer: OutputExplainerSettings = Field(default_factory=OutputExplainerSettings)
    scoring_lm: ScoringLMSettings = Field(default_factory=ScoringLMSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    shuffled_control: bool = Field(
        default=True, description="Also score every latent with another latent's explanations."
    )
    random_sae_control: bool = Field(
        default=True, description="Also run everything on a random SAE of the same shape."
    )
    random_sae_seed: int = Field(default=0, description="Seed of the random-SAE control.")
