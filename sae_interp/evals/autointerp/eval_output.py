"""Output schema of the autointerp detection eval."""

from __future__ import annotations

from pydantic import Field

from sae_interp.evals.autointerp.eval_config import AutoInterpEvalConfig
from sae_interp.evals.common.scored_models import LatentScore
from sae_interp.evals.common.summary import ControlledMetrics
from sae_interp.framework.output import BaseEvalOutput
from sae_interp.scorers.judge import JudgeMetrics, JudgeOutcome
from sae_interp.scorers.saebench_detection import SaeBenchMetrics, SaeBenchOutcome
from sae_interp.stats import pooled_model

PooledDetection = pooled_model(JudgeMetrics)
PooledSaeBench = pooled_model(SaeBenchMetrics)


class AutoInterpMetrics(ControlledMetrics[PooledDetection | PooledSaeBench]):  # type: ignore[valid-type]
    """Pooled over latents with intervals; the controls hold the mode's own metrics."""

    detection: PooledDetection | None = Field(description="Batched mode.")  # type: ignore[valid-type]
    saebench: PooledSaeBench | None = Field(default=None, description="SAEBench mode.")  # type: ignore[valid-type]


LatentDetectionResult = LatentScore[JudgeOutcome | SaeBenchOutcome, JudgeMetrics | SaeBenchMetrics]


class AutoInterpEvalOutput(
    BaseEvalOutput[AutoInterpEvalConfig, AutoInterpMetrics, LatentDetectionResult]
):
    """Result of ``sae_interp.evals.autointerp``."""
