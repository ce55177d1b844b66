"""Output schema of the autointerp detection eval."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sae_interp.core.output import BaseEvalOutput
from sae_interp.evals.autointerp.eval_config import AutoInterpEvalConfig
from sae_interp.evals.common.scored import ExplainedCounts, LatentScore
from sae_interp.scorers.judge import JudgeMetrics, JudgeOutcome
from sae_interp.scorers.saebench_detection import SaeBenchMetrics, SaeBenchOutcome


class PooledDetection(BaseModel):
    """Means over scored latents (nan where no latent has a value)."""

    balanced_accuracy: float
    f1: float
    precision: float
    recall: float
    auroc: float | None = Field(default=None, description="Over latents with probabilities.")
    failed_batch_fraction: float
    n_latents: int


class PooledSaeBench(BaseModel):
    accuracy: float = Field(description="Mean over latents of the fraction of 14 right.")
    failed_fraction: float = Field(description="Latents whose answer could not be read.")
    n_latents: int


class AutoInterpMetrics(ExplainedCounts):
    detection: PooledDetection | None = Field(description="Batched mode.")
    random_explanation_control: PooledDetection | None = Field(
        description="The same scoring with explanations shuffled across latents."
    )
    saebench: PooledSaeBench | None = Field(default=None, description="SAEBench mode.")
    saebench_random_explanation_control: PooledSaeBench | None = None


LatentDetectionResult = LatentScore[JudgeOutcome | SaeBenchOutcome, JudgeMetrics | SaeBenchMetrics]


class AutoInterpEvalOutput(
    BaseEvalOutput[AutoInterpEvalConfig, AutoInterpMetrics, LatentDetectionResult]
):
    """Result of ``sae_interp.evals.autointerp``."""
