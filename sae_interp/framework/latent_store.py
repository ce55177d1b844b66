"""Per-latent records as JSONL, appended as each latent finishes.

A killed run loses at most the latent in flight: on restart, ``done()`` tells the caller which
latents to skip. The last line for a latent wins; a torn final line (a kill mid-write) is
ignored with a warning.

Within a shard of a sharded run (:mod:`sae_interp.distributed.shards`) a store reads its file
and the shard's own, and writes to the shard's own; the driver merges them between stages.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel

from sae_interp.distributed.shards import current_shard, shard_path, stored_callback
from sae_interp.framework.nan_safe import load_json

logger = logging.getLogger(__name__)


RecordT = TypeVar("RecordT", bound=BaseModel)


class LatentStore(Generic[RecordT]):
    def __init__(self, path: Path, record_cls: type[RecordT]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.record_cls = record_cls
        self._lock = threading.Lock()
        self._items: dict[int, RecordT] = {}
        shard = current_shard()
        self._write_path = shard_path(self.path, shard) if shard is not None else self.path
        self._on_put = stored_callback()
        self._needs_newline = False
        for source in dict.fromkeys((self.path, self._write_path)):
            self._read(source)

    def _read(self, source: Path) -> None:
        text = source.read_text() if source.exists() else ""
        if source == self._write_path:
            self._needs_newline = bool(text) and not text.endswith("\n")  # torn last write
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = load_json(self.record_cls, line)
            except ValueError:
                logger.warning("%s:%d is not a complete record; ignoring it", source, n)
                continue
            self._items[item.latent] = item  # type: ignore[attr-defined]

    def get(self, latent: int) -> RecordT | None:
        return self._items.get(latent)

    def put(self, item: RecordT) -> None:
        line = item.model_dump_json() + "\n"
        with self._lock:
            if self._needs_newline:
                line, self._needs_newline = "\n" + line, False
            self._items[item.latent] = item  # type: ignore[attr-defined]
            with self._write_path.open("a") as handle:
                handle.write(line)
                handle.flush()
        if self._on_put is not None:
            self._on_put()

    def done(self) -> set[int]:
        return set(self._items)

    def items(self) -> list[RecordT]:
        return [self._items[k] for k in sorted(self._items)]

    def __contains__(self, latent: object) -> bool:
        return latent in self._items

    def __len__(self) -> int:
        return len(self._items)
