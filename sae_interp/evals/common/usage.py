"""The LLM usage a run reports (``llm_usage``): the service's counts over the run, per
latent, and, in a latent-sharded run (:mod:`sae_interp.distributed.shards`), what its shards
used, carried to the merge stage that writes the result.

Each explain or score stage of a shard appends its usage to ``llm_usage.jsonl`` in the run's
work directory (through its own shard file, which the driver merges like any store); the
merge adds those lines to its own usage. The prepare stage of the next sharded run empties
the file."""

from __future__ import annotations

import json
from typing import Any

from sae_interp.distributed.shards import (
    Stage,
    current_shard,
    current_stage,
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


def record_shard_usage(ctx: EvalContext[Any], usage: dict[str, Any], n_latents: int) -> None:
    """Keep what one stage of this shard used (``n_latents``: the latents it scored)."""
    shard = current_shard()
    assert shard is not None, "only a shard's stage records its usage"
    path = shard_path(ctx.work_dir / SHARDS_USAGE, shard)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps({"usage": usage, "n_latents": n_latents}) + "\n")


def forget_shards_usage(ctx: EvalContext[Any]) -> None:
    """A new sharded run starts: the usage of an earlier one's shards no longer counts."""
    forget_store(ctx.work_dir / SHARDS_USAGE)


def shards_usage(ctx: EvalContext[Any]) -> tuple[dict[str, Any], int]:
    """In a sharded run's merge stage, what its shards used on ``ctx``'s SAE and how many
    latents they scored; elsewhere nothing."""
    path = ctx.work_dir / SHARDS_USAGE
    if current_stage() is not Stage.merge or not path.exists():
        return {}, 0
    total: dict[str, Any] = {}
    n_latents = 0
    for line in path.read_text().splitlines():
        try:
            part = json.loads(line)
        except json.JSONDecodeError:
            continue  # a stage killed mid-write: its retry wrote a line of its own
        total = add_usage(total, part["usage"])
        n_latents += part["n_latents"]
    return total, n_latents
