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
        latents_BLF = sae.encode_with_tokens(acts_BLD, batch_BL)
        if select is not None:
            latents_BLF = latents_BLF.index_select(-1, select)
        mask_BL = valid_token_mask(batch_BL, special).to(device)
        latents_BLF = latents_BLF * mask_BL.unsqueeze(-1).to(latents_BLF.dtype)
        yield LatentBatch(start, latents_BLF, mask_BL, acts_BLD)


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
    if LatentCache.is_complete(directory):
        return LatentCache(directory)
    n_latents = len(latent_ids) if latent_ids is not None else sae.cfg.d_sae
    writer = LatentCacheWriter(directory, n_latents, tokens_NL.shape[1], chunk_entries)
    if writer.seq_done:
        logger.info("resuming collection at sequence %d/%d", writer.seq_done, tokens_NL.shape[0])
    for batch in iter_latent_batches(
        model,
        sae,
        tokens_NL,
        batch_size=batch_size,
        latent_ids=latent_ids,
        start_seq=writer.seq_done,
        progress=progress,
    ):
        entries = SparseEntries.from_dense(batch.latents_BLF, batch.mask_BL, batch.seq_offset)
        writer.add(entries, seq_end=batch.seq_offset + batch.latents_BLF.shape[0])
    tokenizer = model.tokenizer
    assert tokenizer is not None, "collection needs a model with a tokenizer"
    special = special_token_ids(tokenizer)
    full_meta = {
        **(meta or {}),
        "hook_name": sae.cfg.hook_name,
        "d_sae": sae.cfg.d_sae,
        "n_seqs": int(tokens_NL.shape[0]),
        "ctx_len": int(tokens_NL.shape[1]),
        "latent_ids": list(latent_ids) if latent_ids is not None else None,
        "special_token_ids": special,
        "bos_prepended": bool(tokenizer.bos_token_id is not None),
    }
    return writer.finalize(tokens_NL, valid_token_mask(tokens_NL, special), full_meta)
