"""The per-latent result and the counts every explanation-based eval reports: what the one
loop in :mod:`sae_interp.evals.common.scored` writes for each latent and pools per run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from sae_interp.explainers.cost import ExplanationCost

OutcomeT = TypeVar("OutcomeT")
MetricsT = TypeVar("MetricsT")


class LatentScore(BaseModel, Generic[OutcomeT, MetricsT]):
    """One latent's result in any explanation-based eval (auditable: the outcome keeps what
    was shown and answered)."""

    latent: int
    status: str = Field(
        description="ok | too_rare | dead | out_of_range | explanation_failed | "
        "scoring_failed (the last two are not stored as finished: a rerun retries them)"
    )
    explanation: str | None = None
    explanation_source: str | None = Field(
        default=None, description="'explainer', or FORMAT:FILE:LINE of a given explanation."
    )
    explanation_error: str | None = None
    explanation_cost: ExplanationCost | None = Field(
        default=None, description="What making the explanation took (when it was made)."
    )
    scoring_error: str | None = Field(
        default=None, description="The LLM error that left the latent unscored, if any."
    )
    error_kind: str | None = Field(
        default=None, description="Kind of the failure (explanation or scoring), if any."
    )
    metrics: MetricsT | None = None
    outcome: OutcomeT | None = None
    control_explanation_of: int | None = Field(
        default=None, description="Latent whose explanation was used as the control."
    )
    control_note: str | None = Field(
        default=None,
        description="Why the latent has no control score (e.g. no other latent's "
        "explanation differs from its own).",
    )
    control_metrics: MetricsT | None = None
    control_outcome: OutcomeT | None = None


class ExplainerCost(BaseModel):
    """The explainer's cost per explained latent, averaged over the latents whose
    explanation records it (given explanations do not)."""

    n_latents: int
    calls: float
    prompt_tokens: float
    completion_tokens: float
    simulated_windows: float
    simulator_prompt_tokens: float

    @classmethod
    def of(cls, costs: Sequence[ExplanationCost]) -> ExplainerCost | None:
        if not costs:
            return None
        total = ExplanationCost.total(costs)
        per_latent = {k: v / len(costs) for k, v in total.model_dump().items()}
        return cls(n_latents=len(costs), **per_latent)


class ExplainedCounts(BaseModel):
    """Counts every explanation-based eval reports next to its pooled scores."""

    n_requested: int
    n_scored: int
    n_too_rare: int
    n_dead: int
    n_failed_explanations: int
    n_failed_scoring: int = Field(
        default=0, description="Latents whose scoring LLM calls failed (retried on rerun)."
    )
    failures: dict[str, int] = Field(
        default_factory=dict,
        description="Latents left unfinished by failures, by kind (retried on rerun).",
    )
    n_out_of_range: int = Field(default=0, description="Requested latent ids the SAE lacks.")
    llm_usage: dict[str, float | int | bool] = Field(default_factory=dict)
    explainer_cost: ExplainerCost | None = Field(
        default=None,
        description="LLM calls, tokens and simulated windows per explained latent of the "
        "explanations scored (stored ones included: the cost is kept with each).",
    )
