"""Output schema of the autointerp detection eval."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sae_interp.core.output import BaseEvalOutput
from sae_interp.evals.autointerp.eval_config import AutoInterpEvalConfig
from sae_interp.scorers.detection import DetectionMetrics, DetectionOutcome
from sae_interp.scorers.saebench_detection import SaeBenchOutcome


class PooledDetection(BaseModel):
    balanced_accuracy: float = Field(description="Mean over scored latents.")
    f1: float
    precision: float
    recall: float
    auroc: float | None = Field(description="Mean over latents with probabilities.")
    failed_batch_fraction: float
    n_latents: int


class PooledSaeBench(BaseModel):
    accuracy: float = Field(description="Mean over latents of the fraction of 14 right.")
    failed_fraction: float = Field(description="Latents whose answer could not be read.")
    n_latents: int


class AutoInterpMetrics(BaseModel):
    detection: PooledDetection | None = Field(description="Batched mode.")
    random_explanation_control: PooledDetection | None = Field(
        description="The same scoring with explanations shuffled across latents."
    )
    saebench: PooledSaeBench | None = Field(default=None, description="SAEBench mode.")
    saebench_random_explanation_control: PooledSaeBench | None = None
    n_requested: int
    n_too_rare: int
    n_dead: int
    n_failed_explanations: int
    llm_usage: dict[str, float | int | bool] = Field(default_factory=dict)


class LatentDetectionResult(BaseModel):
    latent: int
    status: str
    explanation: str | None = None
    explanation_error: str | None = None
    metrics: DetectionMetrics | None = None
    outcome: DetectionOutcome | None = None
    control_explanation_of: int | None = Field(
        default=None, description="Latent whose explanation was used."
    )
    control_metrics: DetectionMetrics | None = None
    control_outcome: DetectionOutcome | None = None
    saebench: SaeBenchOutcome | None = None
    control_saebench: SaeBenchOutcome | None = None


class AutoInterpEvalOutput(
    BaseEvalOutput[AutoInterpEvalConfig, AutoInterpMetrics, LatentDetectionResult]
):
    """Result of ``sae_interp.evals.autointerp``."""
