"""Keep the Hugging Face hub out of code paths that must work offline."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

_ENV_FLAGS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")


@contextlib.contextmanager
def hub_offline() -> Iterator[None]:
    """Within this block, huggingface_hub / transformers refuse network access."""
    import huggingface_hub.constants as hub_constants

    saved_env = {k: os.environ.get(k) for k in _ENV_FLAGS}
    saved_const = hub_constants.HF_HUB_OFFLINE
    for key in _ENV_FLAGS:
        os.environ[key] = "1"
    hub_constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        hub_constants.HF_HUB_OFFLINE = saved_const
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
