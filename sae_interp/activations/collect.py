"""Batched activation collection: forward to the SAE's hook (no further), SAE encode,
mask special tokens, and write the non-zero latents to a sparse cache."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm
from transformer_lens import HookedTransformer

from sae_interp.activations.cache import LatentCache, LatentCacheWriter, SparseEntries
from sae_interp.models.hooks import activations_at_hook, special_token_ids, valid_token_mask
from sae_interp.saes.base import BaseSAE

logger = logging.getLogger(__name__)


@dataclass
class LatentBatch:
    seq_offset: int
    latents_BLF: torch.Tensor  # selected latents, zero at masked positions
    mask_BL: torch.Tensor
    acts_BLD: torch.Tensor  # activations at the hook (for reconstruction metrics)


@torch.inference_mode()
def iter_latent_batches(
    model: HookedTransformer,
    sae: BaseSAE,
    tokens_NL: torch.Tensor,
    *,
    batch_size: int,
    latent_ids: Sequence[int] | None = None,
    mask_special: bool = True,
    start_seq: int = 0,
    desc: str = "collecting",
    progress: bool = True,
) -> Iterator[LatentBatch]:
    """Yield SAE latents for consecutive batches of ``tokens_NL`` (from ``start_seq``)."""
    special = special_token_ids(model.tokenizer) if mask_special else []
    device = sae.device
    select = torch.tensor(list(latent_ids), device=device) if latent_ids is not None else None
    n_seqs = tokens_NL.shape[0]
    starts = range(start_seq, n_seqs, batch_size)
    for start in tqdm(starts, desc=desc, unit="batch", disable=not progress, leave=False):
        batch_BL = tokens_NL[start : start + batch_size].to(model.cfg.device)
        acts_BLD = activations_at_hook(model, batch_BL, sae.cfg.hook_name).to(device, sae.dtype)
        latents_BLF, mask_BL = encode_masked(sae, acts_BLD, batch_BL, select, special)
        yield LatentBatch(start, latents_BLF, mask_BL, acts_BLD)


def encode_masked(
    sae: BaseSAE,
    acts_BLD: torch.Tensor,
    batch_BL: torch.Tensor,
    select: torch.Tensor | None,
    special: Sequence[int],
) -> tuple[torch.Tensor, torch.Tensor]:
    """The SAE's latents of one batch (only ``select``'s, if given), zero at special
    tokens, and the mask of ordinary tokens."""
    latents_BLF = sae.encode_with_tokens(acts_BLD.to(sae.device, sae.dtype), batch_BL)
    if select is not None:
        latents_BLF = latents_BLF.index_select(-1, select)
    mask_BL = valid_token_mask(batch_BL, special).to(sae.device)
    return latents_BLF * mask_BL.unsqueeze(-1).to(latents_BLF.dtype), mask_BL


def build_latent_cache(
    model: HookedTransformer,
    sae: BaseSAE,
    tokens_NL: torch.Tensor,
    directory: Path,
    *,
    batch_size: int = 16,
    latent_ids: Sequence[int] | None = None,
    meta: dict[str, Any] | None = None,
    chunk_entries: int = 4_000_000,
    progress: bool = True,
) -> LatentCache:
    """Collect latents for all sequences into ``directory``; resumes a partial collection."""
    (cache,) = build_latent_caches(
        model,
        [CacheTarget(sae, directory, latent_ids, meta)],
        tokens_NL,
        batch_size=batch_size,
        chunk_entries=chunk_entries,
        progress=progress,
    )
    return cache


@dataclass
class CacheTarget:
    """One SAE's latent cache to collect: where, and which latents (None: all)."""

    sae: BaseSAE
    directory: Path
    latent_ids: Sequence[int] | None = None
    meta: dict[str, Any] | None = None


@torch.inference_mode()
def build_latent_caches(
    model: HookedTransformer,
    targets: Sequence[CacheTarget],
    tokens_NL: torch.Tensor,
    *,
    batch_size: int = 16,
    chunk_entries: int = 4_000_000,
    progress: bool = True,
    desc: str = "collecting",
) -> list[LatentCache]:
    """The latent caches of several SAEs at one hook from one forward pass per batch: each
    batch's activations at the hook are encoded by every SAE into its own cache. Each
    cache resumes where its own partial collection stopped; complete ones are read."""
    hooks = {t.sae.cfg.hook_name for t in targets}
    if len(hooks) > 1:
        raise ValueError(f"one collection pass serves one hook, got {sorted(hooks)}")
    assert model.tokenizer is not None, "collection needs a model with a tokenizer"
    special = special_token_ids(model.tokenizer)
    writers: dict[int, LatentCacheWriter] = {}
    for i, t in enumerate(targets):
        if not LatentCache.is_complete(t.directory):
            n_latents = len(t.latent_ids) if t.latent_ids is not None else t.sae.cfg.d_sae
            writers[i] = LatentCacheWriter(
                t.directory, n_latents, tokens_NL.shape[1], chunk_entries
            )
    if writers:
        _collect(model, targets, writers, tokens_NL, special, batch_size, progress, desc)
    caches = []
    for i, t in enumerate(targets):
        if i not in writers:
            caches.append(LatentCache(t.directory))
            continue
        full_meta = {
            **(t.meta or {}),
            "hook_name": t.sae.cfg.hook_name,
            "d_sae": t.sae.cfg.d_sae,
            "n_seqs": int(tokens_NL.shape[0]),
            "ctx_len": int(tokens_NL.shape[1]),
            "latent_ids": list(t.latent_ids) if t.latent_ids is not None else None,
            "special_token_ids": special,
            "bos_prepended": bool(model.tokenizer.bos_token_id is not None),
        }
        caches.append(
            writers[i].finalize(tokens_NL, valid_token_mask(tokens_NL, special), full_meta)
        )
    return caches


def _collect(
    model: HookedTransformer,
    targets: Sequence[CacheTarget],
    writers: dict[int, LatentCacheWriter],
    tokens_NL: torch.Tensor,
    special: list[int],
    batch_size: int,
    progress: bool,
    desc: str,
) -> None:
    start_seq = min(w.seq_done for w in writers.values())
    if start_seq:
        logger.info("resuming collection at sequence %d/%d", start_seq, tokens_NL.shape[0])
    hook = targets[next(iter(writers))].sae.cfg.hook_name
    selects: dict[int, torch.Tensor | None] = {}
    for i in writers:
        ids = targets[i].latent_ids
        selects[i] = None if ids is None else torch.tensor(list(ids), device=targets[i].sae.device)
    starts = range(start_seq, tokens_NL.shape[0], batch_size)
    for start in tqdm(starts, desc=desc, unit="batch", disable=not progress, leave=False):
        batch_BL = tokens_NL[start : start + batch_size].to(model.cfg.device)
        end = start + batch_BL.shape[0]
        acts_BLD = activations_at_hook(model, batch_BL, hook)
        for i, writer in writers.items():
            if writer.seq_done >= end:
                continue  # this cache had collected the batch before a stop
            latents_BLF, mask_BL = encode_masked(
                targets[i].sae, acts_BLD, batch_BL, selects[i], special
            )
            writer.add(SparseEntries.from_dense(latents_BLF, mask_BL, start), seq_end=end)
