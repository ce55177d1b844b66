"""The bottom layer: errors, cache paths and stable hashes, the generic registry, logging
setup, torch helpers (device, dtype, seeding) and the frozen pydantic model every config
builds on. Imported by every other package; imports nothing of sae_interp above it."""

from pydantic import BaseModel, ConfigDict

from sae_interp.base.errors import (
    CacheError,
    CompatibilityError,
    CorpusError,
    SaeInterpError,
    SpecError,
)
from sae_interp.base.registry import Registry


class FrozenModel(BaseModel):
    """A strict, immutable pydantic model (unknown keys are an error): what every config of
    the library builds on."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


__all__ = [
    "CacheError",
    "CompatibilityError",
    "CorpusError",
    "FrozenModel",
    "Registry",
    "SaeInterpError",
    "SpecError",
]
