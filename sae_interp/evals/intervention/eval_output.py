"""Output schema of the intervention eval."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sae_interp.evals.intervention.eval_config import InterventionEvalConfig
from sae_interp.explainers.explanations import Explanation
from sae_interp.framework.output import BaseEvalOutput
from sae_interp.interventions.steering import StrengthResult
from sae_interp.stats import pooled, pooled_model


class Continuations(BaseModel):
    prompt: str
    clean: str
    steered: str


class LatentInterventionResult(BaseModel):
    latent: int
    status: str = Field(description="ok | too_rare | dead | no_prompts | explanation_failed")
    max_activation: float = 0.0
    strength: StrengthResult | None = None
    train_prompts: list[str] = Field(default_factory=list)
    train_top_tokens: list[list[str]] = Field(
        default_factory=list, description="Per train prompt, the tokens that rose most."
    )
    continuations: list[Continuations] = Field(default_factory=list)
    explanations: list[Explanation] = Field(default_factory=list)
    explanation_scores: list[float] = Field(
        default_factory=list, description="Per valid explanation (nats)."
    )
    score: float | None = Field(default=None, description="Max over the explanations (nats).")
    control_explanation_of: int | None = None
    control_score: float | None = Field(
        default=None,
        description="The same continuations scored with another latent's "
        "explanations (max over them).",
    )


class InterventionScores(BaseModel):
    """One scored latent's numbers (pooled over latents)."""

    score: float = pooled("Latent score (nats): max over its explanations.")
    kl: float = pooled("KL reached by the chosen strength.")
    converged: float = pooled("1 when the KL hit the target within tolerance, else 0.")
    delta: float = pooled("Steering strength.")


PooledIntervention = pooled_model(InterventionScores)


class InterventionMetrics(BaseModel):
    intervention: PooledIntervention | None  # type: ignore[valid-type]
    shuffled_control: PooledIntervention | None = Field(  # type: ignore[valid-type]
        default=None,
        description="The same continuations scored with another latent's explanations "
        "(score; the steering numbers are the latents' own).",
    )
    real_minus_shuffled_control: PooledIntervention | None = Field(  # type: ignore[valid-type]
        default=None, description="Per-latent difference SAE - shuffled control, pooled."
    )
    random_sae_control: PooledIntervention | None = Field(  # type: ignore[valid-type]
        default=None,
        description="The whole pipeline on a random SAE of the same shape, latents matched "
        "by firing frequency (also written as a result of its own).",
    )
    real_minus_random_sae: PooledIntervention | None = Field(  # type: ignore[valid-type]
        default=None, description="Difference of means SAE - random SAE."
    )
    target_kl: float
    n_requested: int
    n_scored: int
    n_too_rare: int
    n_dead: int
    n_no_prompts: int
    n_failed_explanations: int
    n_not_converged: int
    llm_usage: dict[str, float | int | bool] = Field(default_factory=dict)


class InterventionEvalOutput(
    BaseEvalOutput[InterventionEvalConfig, InterventionMetrics, LatentInterventionResult]
):
    """Result of ``sae_interp.evals.intervention``; the random-SAE control's per-latent
    results are a result of their own, beside this one."""
