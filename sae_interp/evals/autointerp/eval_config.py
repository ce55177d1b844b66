"""Configuration of the autointerp detection eval."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.scorers.detection import DetectionSettings


class AutoInterpEvalConfig(ExplainedEvalConfig):
    """Autointerp detection: an LLM explains each latent from its top windows, then judges
    held-out windows from the explanation alone; scored against shuffled explanations."""

    eval_type_id: ClassVar[str] = "autointerp"

    detection: DetectionSettings = Field(default_factory=DetectionSettings)
