"""Output schema of the surprisal eval."""

from __future__ import annotations

from pydantic import Field

from sae_interp.evals.common.scored_models import LatentScore
from sae_interp.evals.common.summary import ControlledMetrics
from sae_interp.evals.surprisal.eval_config import SurprisalEvalConfig
from sae_interp.framework.output import BaseEvalOutput
from sae_interp.scorers.surprisal import SurprisalMetrics, SurprisalOutcome
from sae_interp.stats import pooled_model

PooledSurprisal = pooled_model(SurprisalMetrics)


class SurprisalEvalMetrics(ControlledMetrics[PooledSurprisal]):  # type: ignore[valid-type]
    surprisal: PooledSurprisal | None = Field(description="With each latent's explanation.")  # type: ignore[valid-type]
    scoring_lm: str = Field(description="Identity of the scoring LM.")


LatentSurprisalResult = LatentScore[SurprisalOutcome, SurprisalMetrics]


class SurprisalEvalOutput(
    BaseEvalOutput[SurprisalEvalConfig, SurprisalEvalMetrics, LatentSurprisalResult]
):
    """Result of ``sae_interp.evals.surprisal``."""
