"""Shared eval machinery: configs, outputs, the per-SAE runner, CLI and tables."""

from sae_interp.core.config import BaseEvalConfig, FrozenModel
from sae_interp.core.errors import (
    CacheError,
    CompatibilityError,
    CorpusError,
    SaeInterpError,
    SpecError,
)
from sae_interp.core.output import BaseEvalOutput, Provenance, json_schema

__all__ = [
    "BaseEvalConfig",
    "BaseEvalOutput",
    "CacheError",
    "CompatibilityError",
    "CorpusError",
    "FrozenModel",
    "Provenance",
    "SaeInterpError",
    "SpecError",
    "json_schema",
]
