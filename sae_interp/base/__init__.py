"""The bottom layer: errors, cache paths and stable hashes, the generic registry and the
frozen pydantic model. Imported by every other package; imports nothing of sae_interp."""

from sae_interp.base.errors import (
    CacheError,
    CompatibilityError,
    CorpusError,
    SaeInterpError,
    SpecError,
)
from sae_interp.base.frozen import FrozenModel
from sae_interp.base.registry import Registry

__all__ = [
    "CacheError",
    "CompatibilityError",
    "CorpusError",
    "FrozenModel",
    "Registry",
    "SaeInterpError",
    "SpecError",
]
