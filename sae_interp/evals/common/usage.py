"""The LLM usage a run reports (``llm_usage``): the service's counts over the run, per
latent, and, in a latent-sharded run (:mod:`sae_interp.distributed.shards`), what its shards
used, carried to the merge stage that writes the result.

Each attempt at an explain or score stage of a shard (a first run, or Ray's retry after a
lost worker) appends to ``llm_usage.jsonl`` in the run's work directory (through its own
shard file, which the driver merges like any store) a line with what it has used so far,
after every call its LLM service answers, every record it stores and at its end. The merge
adds the last complete line of each attempt to its own usage, so every answered call of a
worker killed mid-stage counts too. The prepare stage of the next sharded run empties the
file."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

from sae_interp.distributed.shards import (
    Stage,
    current_shard,
    current_stage,
    ends_torn,
    forget_store,
    shard_path,
)
from sae_interp.framework.runner import EvalContext
from sae_interp.llm.report import SNAPSHOT_PREFIXES
from sae_interp.llm.service import UsageReport

SHARDS_USAGE = "llm_usage.jsonl"


def _additive(key: str, value: Any) -> bool:
    """Whether a usage field adds up over parts of a run (counts and times do; the prices,
    the command's ``batch_*`` fields and flags are snapshots)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and not key.startswith(SNAPSHOT_PREFIXES)
    )


def usage_delta(before: UsageReport, after: UsageReport) -> dict[str, Any]:
    """The usage between two reports; the prices and the ``batch_*`` fields (the command's
    batches as a whole) are taken as they are."""
    b, a = before.as_dict(), after.as_dict()
    return {k: a[k] - b[k] if _additive(k, a[k]) else a[k] for k in a}


def add_usage(usage: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """``usage`` with the counts of ``more`` added (its snapshots where ``usage`` has none)."""
    total = dict(more) | usage
    for key, value in more.items():
        if _additive(key, value) and key in usage:
            total[key] = usage[key] + value
    return total


def with_per_latent(usage: dict[str, Any], n_latents: int) -> dict[str, Any]:
    """``usage`` plus prompt tokens per latent scored in this run (explanations included)
    and the fraction of prompt tokens the backend's prefix cache served (0 where it reports
    none)."""
    prompt = usage.get("prompt_tokens", 0)
    cached = usage.get("cached_prompt_tokens", 0)
    return usage | {
        "prompt_tokens_per_latent": prompt / n_latents if n_latents else 0.0,
        "cached_prompt_fraction": cached / prompt if prompt else 0.0,
    }


class StageUsage:
    """What one attempt at a shard's stage has used since it began: ``write`` appends it
    (cumulative) under the attempt's id, with the latents the attempt has scored so far
    (``n_scored``, set once the stage knows its latents; none before)."""

    def __init__(self, ctx: EvalContext[Any], usage: Callable[[], UsageReport]) -> None:
        shard = current_shard()
        assert shard is not None, "only a shard's stage records its usage"
        self.path = shard_path(ctx.work_dir / SHARDS_USAGE, shard)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.attempt = uuid.uuid4().hex
        self._usage, self._before = usage, usage()
        self.n_scored: Callable[[], int] = lambda: 0
        self._opening = "\n" if ends_torn(self.path) else ""  # an earlier attempt was killed
        self._lock = threading.Lock()

    def write(self) -> None:
        line = {
            "attempt": self.attempt,
            "usage": usage_delta(self._before, self._usage()),
            "n_latents": self.n_scored(),
        }
        with self._lock, self.path.open("a") as handle:
            handle.write(self._opening + json.dumps(line) + "\n")
            self._opening = ""


def forget_shards_usage(ctx: EvalContext[Any]) -> None:
    """A new sharded run starts: the usage of an earlier one's shards no longer counts."""
    forget_store(ctx.work_dir / SHARDS_USAGE)


def shards_usage(ctx: EvalContext[Any]) -> tuple[dict[str, Any], int]:
    """In a sharded run's merge stage, what its shards used on ``ctx``'s SAE and how many
    latents they scored; elsewhere nothing."""
    path = ctx.work_dir / SHARDS_USAGE
    if current_stage() is not Stage.merge or not path.exists():
        return {}, 0
    last: dict[str, dict[str, Any]] = {}  # attempt -> its last complete line
    for n, line in enumerate(path.read_text().splitlines()):
        try:
            part = json.loads(line)
        except json.JSONDecodeError:
            continue  # killed mid-write: the attempt's line before counts
        last[part.get("attempt", str(n))] = part
    total: dict[str, Any] = {}
    for part in last.values():
        total = add_usage(total, part["usage"])
    return total, sum(part["n_latents"] for part in last.values())
