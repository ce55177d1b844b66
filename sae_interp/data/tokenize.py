"""Turn a document stream into fixed-length token blocks, cached on disk.

Documents are tokenised without special tokens and joined into one stream, each document
preceded by BOS. The stream is cut into blocks of ``ctx_len - 1`` tokens and every block
gets a BOS in front, so every row starts with BOS; collection masks BOS positions.
The stream is deterministic, so a cache built for more tokens serves any smaller request.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from sae_interp.base.errors import CorpusError
from sae_interp.base.paths import cache_dir, stable_hash
from sae_interp.data.text_sources import DocumentStream, open_corpus

logger = logging.getLogger(__name__)

DOC_BATCH = 256


def tokenizer_fingerprint(tokenizer: Any) -> str:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        return hashlib.sha256(backend.to_str().encode()).hexdigest()[:16]
    return stable_hash([type(tokenizer).__name__, tokenizer.name_or_path, len(tokenizer)])[:16]


def separator_token(tokenizer: Any) -> int | None:
    for candidate in (tokenizer.bos_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return int(candidate)
    return None


def _token_stream(stream: DocumentStream, tokenizer: Any, bos: int | None) -> Iterator[list[int]]:
    batch: list[str] = []

    def flush() -> Iterator[list[int]]:
        encoded = tokenizer(batch, add_special_tokens=False)["input_ids"]
        for ids in encoded:
            yield ([bos] if bos is not None else []) + list(ids)

    for doc in stream.documents():
        batch.append(doc)
        if len(batch) == DOC_BATCH:
            yield from flush()
            batch = []
    if batch:
        yield from flush()


def build_blocks(stream: DocumentStream, tokenizer: Any, n_rows: int, ctx_len: int) -> torch.Tensor:
    bos = separator_token(tokenizer)
    body = ctx_len - 1 if bos is not None else ctx_len
    rows: list[list[int]] = []
    pending: list[int] = []
    with tqdm(total=n_rows, desc="tokenising", unit="seq", leave=False) as bar:
        for ids in _token_stream(stream, tokenizer, bos):
            pending.extend(ids)
            while len(pending) >= body and len(rows) < n_rows:
                chunk, pending = pending[:body], pending[body:]
                rows.append(([bos] if bos is not None else []) + chunk)
                bar.update(1)
            if len(rows) >= n_rows:
                break
    if not rows:
        raise CorpusError("the corpus produced no complete sequence; it is empty or too short")
    return torch.tensor(rows, dtype=torch.int32)


def load_corpus(
    spec: str, tokenizer: Any, n_tokens: int, ctx_len: int, *, use_cache: bool = True
) -> torch.Tensor:
    """Token blocks [N, ctx_len] (int64), N = ceil(n_tokens / ctx_len), each row starting
    with BOS. Fewer rows are returned (with a warning) if the corpus runs out."""
    if ctx_len < 2:
        raise CorpusError(f"ctx_len must be at least 2, got {ctx_len}")
    if n_tokens < 1:
        raise CorpusError(f"n_tokens must be positive, got {n_tokens}")
    n_rows = -(-n_tokens // ctx_len)
    stream = open_corpus(spec)
    key = stable_hash([stream.fingerprint, tokenizer_fingerprint(tokenizer), ctx_len, 1])[:24]
    path = cache_dir("tokens") / f"{key}.safetensors"
    meta_path = path.with_suffix(".json")
    if use_cache and path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta["n_rows"] >= n_rows or meta["exhausted"]:
            return load_file(str(path))["tokens"][:n_rows].long()
    blocks = build_blocks(stream, tokenizer, n_rows, ctx_len)
    exhausted = blocks.shape[0] < n_rows
    if exhausted:
        logger.warning(
            "corpus %s has only %d sequences of %d tokens (%d requested)",
            spec,
            blocks.shape[0],
            ctx_len,
            n_rows,
        )
    if use_cache:
        save_file({"tokens": blocks.contiguous()}, str(path))
        meta_path.write_text(
            json.dumps({"spec": spec, "n_rows": int(blocks.shape[0]), "exhausted": exhausted})
        )
    return blocks.long()
