"""Configuration of ``evals.all``: several explanation-based evals on the same SAEs."""

from __future__ import annotations

import importlib
from typing import Any, ClassVar

from pydantic import Field, field_validator

from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.scorers.detection import DetectionSettings
from sae_interp.scorers.embedding import EmbeddingSettings
from sae_interp.scorers.fuzzing import FuzzingSettings
from sae_interp.scorers.intruder import IntruderSettings
from sae_interp.scorers.surprisal import SurprisalSettings
from sae_interp.scoring_lm import ScoringLMSettings

DEFAULT_EVALS = ["autointerp", "fuzzing", "surprisal", "embedding"]


def scored_eval(name: str) -> Any:
    """The registered :class:`~sae_interp.evals.common.ScoredEval` called ``name``."""
    from sae_interp.evals import EVAL_MODULES
    from sae_interp.evals.common import SCORED_EVALS

    if name in EVAL_MODULES and name not in SCORED_EVALS:
        importlib.import_module(EVAL_MODULES[name])
    return SCORED_EVALS.get(name)


class AllEvalConfig(ExplainedEvalConfig):
    """Several explanation-based evals on the same SAEs, sharing one latent cache, one set of
    explanations and one LLM service; one combined table and JSON per SAE."""

    eval_type_id: ClassVar[str] = "all"

    evals: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EVALS),
        min_length=1,
        description="Evals to run, comma-separated, in order.",
    )
    detection: DetectionSettings = Field(default_factory=DetectionSettings)
    fuzzing: FuzzingSettings = Field(default_factory=FuzzingSettings)
    scoring_lm: ScoringLMSettings = Field(default_factory=ScoringLMSettings)
    surprisal: SurprisalSettings = Field(default_factory=SurprisalSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    intruder: IntruderSettings = Field(default_factory=IntruderSettings)

    @field_validator("evals")
    @classmethod
    def _known_evals(cls, value: list[str]) -> list[str]:
        names = [v.strip() for v in value]
        for name in names:
            scored_eval(name)  # raises with the list of known evals
        if len(set(names)) != len(names):
            raise ValueError(f"an eval is listed twice: {names}")
        return names

    def config_for(self, name: str) -> ExplainedEvalConfig:
        """The config ``name`` runs with: every field it has, taken from this config."""
        config_cls = scored_eval(name).config_cls
        values = {
            k: getattr(self, k) for k in config_cls.model_fields if k in type(self).model_fields
        }
        return config_cls(**values)
