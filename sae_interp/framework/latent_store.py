"""Per-latent records as JSONL, appended as each latent finishes.

A killed run loses at most the latent in flight: on restart, ``done()`` tells the caller which
latents to skip. The last line for a latent wins; a torn final line (a kill mid-write) is
ignored with a warning.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel

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
        text = self.path.read_text() if self.path.exists() else ""
        self._needs_newline = bool(text) and not text.endswith("\n")  # torn last write
        if text:
            for n, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    item = load_json(record_cls, line)
                except ValueError:
                    logger.warning("%s:%d is not a complete record; ignoring it", self.path, n)
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
            with self.path.open("a") as handle:
                handle.write(line)
                handle.flush()

    def done(self) -> set[int]:
        return set(self._items)

    def items(self) -> list[RecordT]:
        return [self._items[k] for k in sorted(self._items)]

    def __contains__(self, latent: object) -> bool:
        return latent in self._items

    def __len__(self) -> int:
        return len(self._items)
