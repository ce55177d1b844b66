"""Configuration of the surprisal eval."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.scorers.surprisal import SurprisalSettings
from sae_interp.scoring_lm import ScoringLMSettings


class SurprisalEvalConfig(ExplainedEvalConfig):
    """Surprisal: does conditioning a base LM on the explanation lower its loss on activating
    windows more than on non-activating ones (vs a fixed control description)?"""

    eval_type_id: ClassVar[str] = "surprisal"

    scoring_lm: ScoringLMSettings = Field(default_factory=ScoringLMSettings)
    surprisal: SurprisalSettings = Field(default_factory=SurprisalSettings)
