"""Output schema of the surprisal eval."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sae_interp.core.output import BaseEvalOutput
from sae_interp.evals.common.scored import ExplainedCounts, LatentScore
from sae_interp.evals.surprisal.eval_config import SurprisalEvalConfig
from sae_interp.scorers.surprisal import SurprisalMetrics, SurprisalOutcome


class PooledSurprisal(BaseModel):
    """Means over scored latents."""

    auroc: float
    auroc_activating_tokens: float
    mean_loss_drop_activating: float
    mean_loss_drop_negatives: float
    n_latents: int


class SurprisalEvalMetrics(ExplainedCounts):
    surprisal: PooledSurprisal | None = Field(description="With each latent's explanation.")
    random_explanation_control: PooledSurprisal | None = Field(
        description="The same scoring with explanations shuffled across latents."
    )
    scoring_lm: str = Field(description="Identity of the scoring LM.")


LatentSurprisalResult = LatentScore[SurprisalOutcome, SurprisalMetrics]


class SurprisalEvalOutput(
    BaseEvalOutput[SurprisalEvalConfig, SurprisalEvalMetrics, LatentSurprisalResult]
):
    """Result of ``sae_interp.evals.surprisal``."""
