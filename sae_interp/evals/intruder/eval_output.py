"""Output schema of the intruder eval."""

from __future__ import annotations

from pydantic import Field

from sae_interp.evals.common.scored_models import LatentScore
from sae_interp.evals.common.summary import ControlledMetrics
from sae_interp.evals.intruder.eval_config import IntruderEvalConfig
from sae_interp.framework.output import BaseEvalOutput
from sae_interp.scorers.intruder import IntruderMetrics, IntruderOutcome
from sae_interp.stats import pooled_model

PooledIntruder = pooled_model(IntruderMetrics)


class IntruderMetricsOut(ControlledMetrics[PooledIntruder]):  # type: ignore[valid-type]
    """Explanation-free: the references are chance and the random-SAE control."""

    intruder: PooledIntruder | None = Field(  # type: ignore[valid-type]
        description="Pooled over scored latents, with intervals."
    )


LatentIntruderResult = LatentScore[IntruderOutcome, IntruderMetrics]


class IntruderEvalOutput(
    BaseEvalOutput[IntruderEvalConfig, IntruderMetricsOut, LatentIntruderResult]
):
    """Result of ``sae_interp.evals.intruder``."""
