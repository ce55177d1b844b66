"""Output schema of the agentic explanation eval."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sae_interp.agentic.schema import AgentTranscript
from sae_interp.evals.agentic.eval_config import AgenticEvalConfig
from sae_interp.evals.common.summary import SeedSpread
from sae_interp.framework.output import BaseEvalOutput
from sae_interp.scorers.generation import GenerationResult
from sae_interp.scorers.prediction import PredictionResult
from sae_interp.stats import pooled, pooled_model


class ExplanationScores(BaseModel):
    """The numbers one explanation of one latent gets (pooled over latents)."""

    generation_success_rate: float | None = pooled(
        "Generated texts whose max activation reaches half the exemplars' mean peak."
    )
    generation_mean_activation: float | None = pooled("Mean max activation of generated texts.")
    prediction_pearson: float | None = pooled("Correlation of predicted and true activations.")


class ExplanationEvaluation(BaseModel):
    explanation: str
    generation: GenerationResult
    prediction: PredictionResult

    def scores(self) -> ExplanationScores:
        return ExplanationScores(
            generation_success_rate=self.generation.success_rate,
            generation_mean_activation=self.generation.mean_activation,
            prediction_pearson=self.prediction.pearson,
        )


class LatentAgenticResult(BaseModel):
    latent: int
    status: str = Field(
        description="ok | too_rare | dead | no_conclusion | explanation_failed (the one-shot "
        "explanation failed) | scoring_failed (an agent call failed): a failed latent is "
        "counted, not stored, and a rerun retries it"
    )
    error: str | None = None
    error_kind: str | None = None
    transcript: AgentTranscript | None = None
    agentic: ExplanationEvaluation | None = None
    one_shot: ExplanationEvaluation | None = None
    control_explanation_of: int | None = None
    shuffled_control: ExplanationEvaluation | None = None
    llm_usage: dict[str, float | int | bool] = Field(default_factory=dict)


PooledExplanationScores = pooled_model(ExplanationScores)


class AgenticMetrics(BaseModel):
    agentic: PooledExplanationScores | None  # type: ignore[valid-type]
    one_shot: PooledExplanationScores | None  # type: ignore[valid-type]
    shuffled_control: PooledExplanationScores | None  # type: ignore[valid-type]
    agentic_minus_one_shot: PooledExplanationScores | None = Field(  # type: ignore[valid-type]
        default=None, description="Per-latent difference agentic - one-shot, pooled."
    )
    real_minus_shuffled_control: PooledExplanationScores | None = Field(  # type: ignore[valid-type]
        default=None, description="Per-latent difference agentic - shuffled control, pooled."
    )
    random_sae_control: PooledExplanationScores | None = Field(  # type: ignore[valid-type]
        default=None,
        description="The agent's explanations of a random SAE's frequency-matched latents "
        "(--random-sae-control).",
    )
    random_sae_one_shot: PooledExplanationScores | None = Field(  # type: ignore[valid-type]
        default=None, description="One-shot explanations of the random SAE's latents."
    )
    real_minus_random_sae: PooledExplanationScores | None = Field(  # type: ignore[valid-type]
        default=None, description="Difference of means agentic - random SAE's agentic."
    )
    reseed: dict[str, SeedSpread] | None = Field(
        default=None,
        description="Per pooled score ('agentic.prediction_pearson', ...), its spread "
        "across --seeds (the evaluations drawn again, the agent not rerun).",
    )
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
