"""Where sae_interp keeps caches and results.

The cache root is ``$SAE_INTERP_CACHE`` if set, else the platform's user cache dir.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import platformdirs


def cache_root() -> Path:
    env = os.environ.get("SAE_INTERP_CACHE")
    root = Path(env) if env else Path(platformdirs.user_cache_dir("sae_interp"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def cache_dir(*parts: str) -> Path:
    path = cache_root().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def slugify(text: str, max_len: int = 80) -> str:
    """A filesystem-safe, readable name for a spec string."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_.")
    if len(slug) > max_len:
        slug = slug[: max_len - 13] + "_" + stable_hash(text)[:12]
    return slug or "default"


def stable_hash(obj: Any) -> str:
    """sha256 of a JSON-serialisable object, stable across runs and machines."""
    payload = json.dumps(obj, sort_keys=True, default=str).encode()
    return hashlib.sha256(payload).hexdigest()
