"""Output schema of the fuzzing eval."""

from __future__ import annotations

from pydantic import Field

from sae_interp.evals.common.scored_models import LatentScore
from sae_interp.evals.common.summary import ControlledMetrics
from sae_interp.evals.fuzzing.eval_config import FuzzingEvalConfig
from sae_interp.framework.output import BaseEvalOutput
from sae_interp.scorers.judge import JudgeMetrics, JudgeOutcome
from sae_interp.stats import pooled_model

PooledFuzzing = pooled_model(JudgeMetrics)


class FuzzingMetrics(ControlledMetrics[PooledFuzzing]):  # type: ignore[valid-type]
    fuzzing: PooledFuzzing | None = Field(description="Pooled over scored latents.")  # type: ignore[valid-type]


LatentFuzzingResult = LatentScore[JudgeOutcome, JudgeMetrics]


class FuzzingEvalOutput(BaseEvalOutput[FuzzingEvalConfig, FuzzingMetrics, LatentFuzzingResult]):
    """Result of ``sae_interp.evals.fuzzing``."""
