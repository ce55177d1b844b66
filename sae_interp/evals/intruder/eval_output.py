"""Output schema of the intruder eval."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sae_interp.core.output import BaseEvalOutput
from sae_interp.evals.common.scored import ExplainedCounts, LatentScore
from sae_interp.evals.intruder.eval_config import IntruderEvalConfig
from sae_interp.scorers.intruder import IntruderMetrics, IntruderOutcome


class PooledIntruder(BaseModel):
    """Means over scored latents (nan where no latent has a value)."""

    accuracy: float
    p_correct: float | None = Field(default=None, description="Over latents with log-probs.")
    chance: float
    failed_fraction: float
    n_latents: int


class IntruderMetricsOut(ExplainedCounts):
    intruder: PooledIntruder | None = Field(description="Means over scored latents.")
    accuracy_ci: tuple[float, float] | None = Field(
        default=None, description="95% bootstrap interval of the mean accuracy over latents."
    )


LatentIntruderResult = LatentScore[IntruderOutcome, IntruderMetrics]


class IntruderEvalOutput(
    BaseEvalOutput[IntruderEvalConfig, IntruderMetricsOut, LatentIntruderResult]
):
    """Result of ``sae_interp.evals.intruder``."""
