"""Latent shards: the latents of one SAE split over several processes (``--latent-shards N``
or ``--shard-size K`` with ``--executor ray``), each running the ordinary per-latent loop on
its part.

A sharded run goes in stages, one process per (SAE, shard) within a stage:

1. ``prepare`` (one process per SAE): collect the latent caches the shards read (the
   SAE's, and its random SAE's for the random-SAE control), so that no two shards collect
   one; with ``--force``, empty the SAE's stores, as a forced local run would at its start.
2. ``explain``: every shard explains its latents. The shuffled-explanation control pairs a
   latent with another latent's explanation, so scoring waits until every shard is done.
3. ``score``: every shard scores its latents, the controls drawn from all explanations
   exactly as a local run draws them.
4. ``merge``: the ordinary local run on the whole SAE (one process per SAE), which finds
   every latent finished and pools them once: intervals, controls and reseeds are computed
   there, from the same per-latent records a local run would pool.

Within a shard's process every per-latent store (:class:`~sae_interp.framework.latent_store.
LatentStore`) writes to a file of its own beside the store's, ``NAME.shard-I-of-N.jsonl``,
and reads the store's file and its own; between stages the driver appends those files to
their stores (:func:`merge_shard_files`). No two processes ever write one file, so the
output may sit on a network filesystem. A shard killed midway is rerun and resumes from its
file: it costs only its unfinished latents.

A shard's latents are every N-th of the SAE's chosen latents, starting at its index, so
shards of latents chosen by firing frequency get a like mix.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Stage(str, Enum):
    prepare = "prepare"
    explain = "explain"
    score = "score"
    merge = "merge"


@dataclass(frozen=True)
class LatentShard:
    index: int
    count: int

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index} of {self.count} does not exist")

    def pick(self, latents: Sequence[T]) -> list[T]:
        """This shard's part of ``latents``: every ``count``-th, from its index on."""
        return list(latents[self.index :: self.count])

    @property
    def suffix(self) -> str:
        return f".shard-{self.index}-of-{self.count}"


_CURRENT: ContextVar[tuple[Stage, LatentShard | None] | None] = ContextVar(
    "sae_interp_shard_stage", default=None
)


@contextmanager
def shard_stage(stage: Stage, shard: LatentShard | None = None) -> Iterator[None]:
    """Run the enclosed code as ``stage`` of a sharded run (on ``shard``, for the stages
    that work on one)."""
    token = _CURRENT.set((stage, shard))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current_stage() -> Stage | None:
    """The stage this code runs in; None outside a sharded run."""
    current = _CURRENT.get()
    return current[0] if current is not None else None


def current_shard() -> LatentShard | None:
    """The shard this code works on (None: the whole SAE)."""
    current = _CURRENT.get()
    return current[1] if current is not None else None


_ON_STORED: ContextVar[Callable[[], None] | None] = ContextVar("sae_interp_on_stored", default=None)


@contextmanager
def on_stored(callback: Callable[[], None]) -> Iterator[None]:
    """Call ``callback`` after every record that a per-latent store opened in the enclosed
    code writes (a shard's stage keeps its LLM usage as it goes)."""
    token = _ON_STORED.set(callback)
    try:
        yield
    finally:
        _ON_STORED.reset(token)


def stored_callback() -> Callable[[], None] | None:
    """What a per-latent store opened here calls after each record it writes, if anything."""
    return _ON_STORED.get()


def stages(n_shards: int) -> list[tuple[Stage, list[LatentShard | None]]]:
    """The stages of a run in ``n_shards`` shards, in order, each with what its processes
    work on (None: the whole SAE); the driver merges the shard files after each."""
    every: list[LatentShard | None] = [LatentShard(i, n_shards) for i in range(n_shards)]
    return [
        (Stage.prepare, [None]),
        (Stage.explain, every),
        (Stage.score, every),
        (Stage.merge, [None]),
    ]


def forgets(force: bool) -> bool:
    """Whether ``--force`` empties the stores here: in a local run, and in a sharded run's
    ``prepare`` stage only (the later stages build on what the earlier ones stored)."""
    return force and current_stage() in (None, Stage.prepare)


def shard_path(path: Path, shard: LatentShard) -> Path:
    """Where ``shard`` writes the per-latent store at ``path``."""
    return path.with_name(f"{path.stem}{shard.suffix}{path.suffix}")


_SHARD_FILE = re.compile(r"^(?P<stem>.+)\.shard-\d+-of-\d+(?P<suffix>\.jsonl)$")


def shard_files(path: Path) -> list[Path]:
    """The shard files of the store at ``path`` that are not merged yet."""
    pattern = f"{path.stem}.shard-*-of-*{path.suffix}"
    return sorted(p for p in path.parent.glob(pattern) if _SHARD_FILE.match(p.name))


def forget_store(path: Path) -> None:
    """Remove the store at ``path`` and its unmerged shard files."""
    for stale in (path, *shard_files(path)):
        stale.unlink(missing_ok=True)


def ends_torn(path: Path) -> bool:
    """Whether the file at ``path`` ends in a line without its newline."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    with path.open("rb") as handle:
        handle.seek(-1, 2)
        return handle.read(1) != b"\n"


def merge_shard_files(root: Path) -> int:
    """Append every shard file under ``root`` to its store, then remove it; returns how many
    were merged. A torn last line (a shard killed mid-write) stays torn, on a line of its
    own: the store skips it."""
    merged = 0
    for shard_file in sorted(root.rglob("*.shard-*-of-*.jsonl")):
        match = _SHARD_FILE.match(shard_file.name)
        if match is None:
            continue
        store = shard_file.with_name(match["stem"] + match["suffix"])
        text = shard_file.read_text()
        if text:
            opening = "\n" if ends_torn(store) else ""
            with store.open("a") as handle:
                handle.write(opening + text + ("" if text.endswith("\n") else "\n"))
        shard_file.unlink()
        merged += 1
    if merged:
        logger.info("merged %d shard files under %s", merged, root)
    return merged
