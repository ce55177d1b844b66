"""Output schema of ``evals.all``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sae_interp.evals.all.eval_config import AllEvalConfig
from sae_interp.framework.output import BaseEvalOutput


class AllMetrics(BaseModel):
    """``evals`` lists what ran; each eval's pooled metrics are under its own name (the
    same model as that eval's own output)."""

    model_config = ConfigDict(extra="allow")

    evals: list[str]
    n_explained: int = Field(description="Latents with an explanation (shared by all evals).")
    llm_usage: dict[str, float | int | bool] = Field(default_factory=dict)


class AllLatentResult(BaseModel):
    latent: int
    status: str
    explanation: str | None = None
    control_explanation_of: int | None = None
    metrics: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Eval name -> this latent's metrics."
    )
    control_metrics: dict[str, dict[str, Any]] = Field(default_factory=dict)


class AllEvalOutput(BaseEvalOutput[AllEvalConfig, AllMetrics, AllLatentResult]):
    """Result of ``sae_interp.evals.all`` (each eval's full output is also written to its own
    result file)."""
