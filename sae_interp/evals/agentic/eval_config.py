"""Configuration of the agentic explanation eval."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from sae_interp.activations.sampling import SamplingConfig
from sae_interp.agentic.controller import AgentSettings
from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.framework.config import with_default
from sae_interp.scorers.generation import GenerationSettings
from sae_interp.scorers.prediction import PredictionSettings


def _default_sampling() -> SamplingConfig:
    # the top windows feed the agent's exemplars (and the one-shot explainer); quantile-sampled
    # test windows feed the prediction evaluation
    return SamplingConfig(
        n_train=20, train_strategy="top", n_test=12, n_negatives=0, min_activating=20
    )


def _default_agent() -> AgentSettings:
    # sized for the offline LLM on a CPU; the published budget is 14 rounds
    return AgentSettings(max_rounds=6)


class AgenticEvalConfig(ExplainedEvalConfig):
    """Agentic explanation (SAGE-style): an LLM agent forms hypotheses about a latent, tests
    them on the live model and concludes; its explanation and the one-shot explanation of the
    same latent are evaluated by generation and prediction, next to a shuffled control."""

    eval_type_id: ClassVar[str] = "agentic"

    n_latents: int = with_default(ExplainedEvalConfig, "n_latents", default=2)
    sampling: SamplingConfig = with_default(
        ExplainedEvalConfig, "sampling", default_factory=_default_sampling
    )
    agent: AgentSettings = Field(default_factory=_default_agent)
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    prediction: PredictionSettings = Field(default_factory=PredictionSettings)

    @model_validator(mode="after")
    def _no_batches(self) -> AgenticEvalConfig:
        self.llm.refuse_batches(
            "the agentic eval", "each of its agent's steps depends on the answer to the one before"
        )
        if self.random_model_control:
            raise ValueError(
                "--random-model-control: the agentic eval has no random-model arm (its agent "
                "experiments on the run's model); use --random-sae-control"
            )
        return self
