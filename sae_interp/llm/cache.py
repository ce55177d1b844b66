"""On-disk response cache keyed by the full request and the backend's identity.

SQLite, one row per request: re-running or resuming an eval pays nothing for calls it has
already made. Failed calls are never cached, and neither are answers the caller rejected
(a validator on the call, or :meth:`ResponseCache.evict` afterwards): a rerun asks again.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

from sae_interp.base.paths import cache_dir, slugify
from sae_interp.llm.types import LLMRequest, LLMResponse

# fields added after the first release: left out of the key while at their default, so the
# keys of existing caches stay valid
_LATER_FIELDS = {"prompt": None, "echo_logprobs": False}


def request_key(backend_identity: str, request: LLMRequest) -> str:
    unset = {name for name, default in _LATER_FIELDS.items() if getattr(request, name) == default}
    payload = backend_identity + "\n" + request.model_dump_json(exclude=unset)
    return hashlib.sha256(payload.encode()).hexdigest()


def response_cache_path(identity: str) -> Path:
    """The cache of the answers of the LLM with this identity."""
    return cache_dir("llm", "responses") / f"{slugify(identity)}.sqlite"


class ResponseCache:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, body TEXT)")
        self._db.commit()

    def get(self, key: str) -> LLMResponse | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return LLMResponse.model_validate_json(row[0]).model_copy(update={"cached": True})

    def put(self, key: str, response: LLMResponse) -> None:
        body = response.model_copy(update={"cached": False}).model_dump_json()
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?)", (key, body))
            self._db.commit()

    def evict(self, key: str) -> bool:
        """Forget one answer (e.g. one the caller could not parse); True if it was there."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM responses WHERE key = ?", (key,))
            self._db.commit()
        return cursor.rowcount > 0

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
