"""Configuration of the fuzzing eval."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.scorers.fuzzing import FuzzingSettings


class FuzzingEvalConfig(ExplainedEvalConfig):
    """Fuzzing: a judge sees windows with highlighted tokens and says, from the explanation,
    whether the highlights are right; true highlights vs random (or misplaced) ones."""

    eval_type_id: ClassVar[str] = "fuzzing"

    fuzzing: FuzzingSettings = Field(default_factory=FuzzingSettings)
