"""What every explainer produces, and where explanations are kept for reuse."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from pydantic import BaseModel


class Explanation(BaseModel):
    """An explainer's answer for one latent. A failure keeps the raw text and the reason and
    has ``text=None``: it is never scored as if it were an explanation."""

    latent: int
    text: str | None
    raw: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.text is not None


class ExplanationStore:
    """Explanations as JSONL, one line per latent, appended as each one is produced.

    One file per (model, SAE, sampling, explainer settings, LLM) key, so a later eval on the
    same latents with the same settings reuses the explanations instead of paying again.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._items: dict[int, Explanation] = {}
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                if line.strip():
                    item = Explanation.model_validate_json(line)
                    self._items[item.latent] = item

    def get(self, latent: int) -> Explanation | None:
        return self._items.get(latent)

    def put(self, explanation: Explanation) -> None:
        with self._lock:
            self._items[explanation.latent] = explanation
            with self.path.open("a") as handle:
                handle.write(json.dumps(explanation.model_dump()) + "\n")

    def __contains__(self, latent: int) -> bool:
        return latent in self._items

    def __len__(self) -> int:
        return len(self._items)
