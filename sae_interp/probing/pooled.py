"""One pooled activation vector per prompt at a hook, cached on disk per (model, hook,
dataset).

Prompts are tokenised one by one as sae-probes does (the tokenizer's own special tokens;
prompts longer than ``max_seq_len`` keep their leading BOS and their last tokens, like a
left-truncating tokenizer), run in length-sorted, right-padded batches no further than the
hook's layer, and pooled: ``last`` takes the last token of each prompt (sae-probes' choice),
``mean`` averages its tokens after the BOS. Right padding under causal attention leaves the
prompt's own positions untouched, so batching does not change the values.

The cache holds model activations, not SAE latents: every SAE at the same hook encodes the
same file, in this run and in later ones.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm
from transformer_lens import HookedTransformer

from sae_interp.base.paths import cache_dir, slugify, stable_hash
from sae_interp.models.hooks import activations_at_hook

logger = logging.getLogger(__name__)

POOLINGS = ("last", "mean")


def tokenize_prompts(tokenizer: Any, prompts: Sequence[str], max_seq_len: int) -> list[list[int]]:
    """Token ids of each prompt, at most ``max_seq_len`` (BOS kept, the start dropped)."""
    bos = tokenizer.bos_token_id
    out = []
    for prompt in prompts:
        ids = list(tokenizer(prompt)["input_ids"])
        if len(ids) > max_seq_len:
            keep_bos = bos is not None and ids[0] == bos
            ids = ids[:1] + ids[-(max_seq_len - 1) :] if keep_bos else ids[-max_seq_len:]
        out.append(ids)
    return out


def pool(
    acts_BLD: torch.Tensor, lengths_B: torch.Tensor, pooling: str, skip_first_B: torch.Tensor
) -> torch.Tensor:
    """Pool right-padded activations: ``last`` = position length-1; ``mean`` = mean over
    positions [skip_first, length) (``skip_first`` is 1 after a BOS, else 0; a prompt that is
    only a BOS keeps it)."""
    positions = torch.arange(acts_BLD.shape[1], device=acts_BLD.device)
    if pooling == "last":
        return acts_BLD[torch.arange(acts_BLD.shape[0]), lengths_B - 1]
    if pooling != "mean":
        raise ValueError(f"unknown pooling {pooling!r}; use one of {POOLINGS}")
    start = torch.where(lengths_B > skip_first_B, skip_first_B, torch.zeros_like(skip_first_B))
    mask = (positions[None] >= start[:, None]) & (positions[None] < lengths_B[:, None])
    weights = mask.to(acts_BLD.dtype)
    return (acts_BLD * weights[..., None]).sum(1) / weights.sum(1, keepdim=True)


@torch.inference_mode()
def pooled_activations(
    model: HookedTransformer,
    hook_name: str,
    prompts: Sequence[str],
    *,
    pooling: str = "last",
    max_seq_len: int = 1024,
    batch_size: int = 16,
    desc: str = "activations",
) -> torch.Tensor:
    """``[len(prompts), d]`` float32 pooled activations at ``hook_name``."""
    tokenizer = model.tokenizer
    assert tokenizer is not None, "pooled activations need a model with a tokenizer"
    ids = tokenize_prompts(tokenizer, prompts, max_seq_len)
    empty = [i for i, row in enumerate(ids) if not row]
    if empty:
        raise ValueError(f"{len(empty)} prompts yield no tokens (first: row {empty[0]})")
    bos = tokenizer.bos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out: torch.Tensor | None = None
    for start in tqdm(range(0, len(order), batch_size), desc=desc, leave=False, unit="batch"):
        rows = order[start : start + batch_size]
        width = max(len(ids[i]) for i in rows)
        tokens = torch.full((len(rows), width), pad, dtype=torch.long)
        for j, i in enumerate(rows):
            tokens[j, : len(ids[i])] = torch.tensor(ids[i])
        lengths = torch.tensor([len(ids[i]) for i in rows])
        skip = torch.tensor([int(bos is not None and ids[i][0] == bos) for i in rows])
        acts = activations_at_hook(model, tokens.to(model.cfg.device), hook_name)
        pooled = pool(acts.float().cpu(), lengths, pooling, skip)
        if out is None:
            out = torch.empty(len(ids), pooled.shape[-1], dtype=torch.float32)
        out[torch.tensor(rows)] = pooled
    assert out is not None
    return out


def activation_cache_dir(
    model_spec: str, model: HookedTransformer, hook_name: str, pooling: str, max_seq_len: int
) -> Path:
    """Where pooled activations of one (model, hook, pooling, length) live."""
    settings = f"{pooling}-len{max_seq_len}-{str(model.cfg.dtype).removeprefix('torch.')}"
    return cache_dir(
        "probing_activations",
        f"{slugify(model_spec)}__{slugify(model.cfg.model_name)}",
        slugify(hook_name),
        settings,
    )


def cached_pooled_activations(
    directory: Path,
    name: str,
    model: HookedTransformer,
    hook_name: str,
    prompts: Sequence[str],
    *,
    pooling: str,
    max_seq_len: int,
    batch_size: int,
) -> tuple[torch.Tensor, bool]:
    """Pooled activations of ``prompts`` from ``directory/name``, computed and stored when
    missing or made from other prompts; returns (activations, whether they were cached)."""
    digest = stable_hash(list(prompts))[:16]
    path = directory / f"{slugify(name)}__{len(prompts)}__{digest}.safetensors"
    if path.exists():
        return load_file(str(path))["acts"], True
    acts = pooled_activations(
        model,
        hook_name,
        prompts,
        pooling=pooling,
        max_seq_len=max_seq_len,
        batch_size=batch_size,
        desc=f"activations {name}",
    )
    tmp = path.with_suffix(".tmp")
    save_file({"acts": acts.contiguous()}, str(tmp), metadata={"dataset": name, "hook": hook_name})
    tmp.replace(path)
    logger.debug("stored %s", path)
    return acts, False
