"""Output schema of the agentic explanation eval."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sae_interp.agentic.schema import AgentTranscript
from sae_interp.core.output import BaseEvalOutput
from sae_interp.evals.agentic.eval_config import AgenticEvalConfig
from sae_interp.scorers.generation import GenerationResult
from sae_interp.scorers.prediction import PredictionResult


class ExplanationEvaluation(BaseModel):
    explanation: str
    generation: GenerationResult
    prediction: PredictionResult

    @property
    def generation_success_rate(self) -> float | None:
        return self.generation.success_rate

    @property
    def generation_mean_activation(self) -> float | None:
        return self.generation.mean_activation

    @property
    def prediction_pearson(self) -> float:
        return self.prediction.pearson


class LatentAgenticResult(BaseModel):
    latent: int
    status: str = Field(description="ok | too_rare | dead | no_conclusion")
    transcript: AgentTranscript | None = None
    agentic: ExplanationEvaluation | None = None
    one_shot: ExplanationEvaluation | None = None
    control_explanation_of: int | None = None
    random_explanation_control: ExplanationEvaluation | None = None
    llm_usage: dict[str, float | int | bool] = Field(default_factory=dict)


class PooledExplanationScores(BaseModel):
    """Means over latents (nan where no latent has a value)."""

    generation_success_rate: float
    generation_mean_activation: float
    prediction_pearson: float
    n_latents: int


class AgenticMetrics(BaseModel):
    agentic: PooledExplanationScores | None
    one_shot: PooledExplanationScores | None
    random_explanation_control: PooledExplanationScores | None
    n_requested: int
    n_concluded: int = Field(description="The agent chose to conclude.")
    n_forced: int = Field(description="Concluded by a budget (rounds or failures).")
    n_no_conclusion: int
    n_too_rare: int
    n_dead: int
    mean_tests: float
    llm_usage: dict[str, float | int | bool] = Field(default_factory=dict)


class AgenticEvalOutput(BaseEvalOutput[AgenticEvalConfig, AgenticMetrics, LatentAgenticResult]):
    """Result of ``sae_interp.evals.agentic``."""
