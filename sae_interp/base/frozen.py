"""The immutable, strict pydantic model every config of the library builds on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FrozenModel(BaseModel):
    """A strict, immutable pydantic model (unknown keys are an error)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
