"""Typed, self-describing eval outputs.

Every eval's output inherits :class:`BaseEvalOutput`, which carries provenance (library
version, model, SAE and its config, eval id, timestamps, seed). JSON schemas are generated
from the models with :func:`json_schema`.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from sae_interp.framework.config import BaseEvalConfig
from sae_interp.framework.nan_safe import load_json

ConfigT = TypeVar("ConfigT", bound=BaseEvalConfig)
MetricsT = TypeVar("MetricsT", bound=BaseModel)
DetailT = TypeVar("DetailT", bound=BaseModel)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Provenance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sae_interp_version: str
    torch_version: str
    transformer_lens_version: str
    model_spec: str
    model_name: str
    sae_spec: str
    sae_cfg: dict[str, Any]
    hook_name: str
    eval_type_id: str
    seed: int
    device: str
    started_at: datetime
    finished_at: datetime | None = None
    sae_fingerprint: str | None = Field(
        default=None, description="Digest of the SAE's weights and config (stale-result check)."
    )
    executor: str = Field(
        default="local", description="Where it ran: local, or the executor's name (ray)."
    )


class BaseEvalOutput(BaseModel, Generic[ConfigT, MetricsT, DetailT]):
    model_config = ConfigDict(extra="forbid")

    eval_type_id: str
    eval_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    provenance: Provenance
    eval_config: ConfigT
    eval_result_metrics: MetricsT
    eval_result_details: list[DetailT] = Field(default_factory=list)
    eval_result_unstructured: dict[str, Any] | None = None
    failures: dict[str, int] = Field(
        default_factory=dict,
        description="Latents left unfinished by failures, by kind; running the same command "
        "again retries exactly them.",
    )

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.model_dump_json(indent=2))
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> Self:
        return load_json(cls, path.read_text())  # undefined metrics (null) read back as NaN

    def flat_metrics(self) -> dict[str, Any]:
        """Metrics as a flat {'group.name': value} dict, for tables."""
        return flatten(self.eval_result_metrics.model_dump())


def is_estimate(value: Any) -> bool:
    """True for a dumped :class:`~sae_interp.stats.Estimate` (a value with its interval)."""
    return isinstance(value, dict) and {"value", "lo", "hi", "n"} <= value.keys()


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested metrics as {'group.name': value}; a value with its interval stays one entry."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not is_estimate(value):
            flat.update(flatten(value, prefix=f"{name}."))
        else:
            flat[name] = value
    return flat


def json_schema(output_cls: type[BaseModel]) -> str:
    return json.dumps(output_cls.model_json_schema(), indent=2)
