"""Configuration of the intruder eval."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.scorers.intruder import IntruderSettings


class IntruderEvalConfig(ExplainedEvalConfig):
    """Intruder detection: a judge sees several activating windows of a latent and one of
    another latent and names the intruder. No explanation is made or used (the explainer
    and random-control settings are ignored); chance is 1 / (windows per prompt)."""

    eval_type_id: ClassVar[str] = "intruder"

    intruder: IntruderSettings = Field(default_factory=IntruderSettings)
