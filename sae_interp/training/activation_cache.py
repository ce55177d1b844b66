"""Residual-stream activations for SAE training, computed once and stored on disk.

Activations are written in shards (fp16 safetensors, special-token positions removed) so
that a long collection can be interrupted and resumed shard by shard, and so that SAEs can
be trained for several epochs, or with several settings, from one pass of the model.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm
from transformer_lens import HookedTransformer

from sae_interp.models import activations_at_hook

logger = logging.getLogger(__name__)

META = "meta.json"


def _shard_path(root: Path, index: int) -> Path:
    return root / f"shard_{index:05d}.safetensors"


def _n_shards(meta: dict[str, Any]) -> int:
    return -(-int(meta["n_rows"]) // int(meta["rows_per_shard"]))


def _missing_shards(root: Path, meta: dict[str, Any]) -> list[int]:
    return [i for i in range(_n_shards(meta)) if not _shard_path(root, i).exists()]


def keep_mask(tokens_BL: torch.Tensor, special_ids: list[int]) -> torch.Tensor:
    """True where a token is not a special token (BOS, EOS, pad...)."""
    if not special_ids:
        return torch.ones_like(tokens_BL, dtype=torch.bool)
    return ~torch.isin(tokens_BL, torch.tensor(special_ids, dtype=tokens_BL.dtype))


def cache_activations(
    model: HookedTransformer,
    tokens_NL: torch.Tensor,
    hook_name: str,
    out_dir: Path,
    *,
    batch_size: int = 16,
    rows_per_shard: int = 512,
) -> Path:
    """Write activations at ``hook_name`` for every non-special token of ``tokens_NL``.

    Shards already on disk are kept, so a second call resumes an interrupted collection.
    The metadata records the model, the hook, the token count and the shapes; a call with
    another model, hook or token set on an existing directory is refused rather than mixed
    in.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    special = sorted(set(getattr(model.tokenizer, "all_special_ids", []) or []))
    fingerprint = {
        "model": model.cfg.model_name,
        "hook_name": hook_name,
        "n_rows": int(tokens_NL.shape[0]),
        "ctx_len": int(tokens_NL.shape[1]),
        "rows_per_shard": rows_per_shard,
        "token_sum": int(tokens_NL.sum()),
        "d_model": int(model.cfg.d_model),
        "excluded_token_ids": special,
    }
    meta_path = out_dir / META
    if meta_path.exists():
        previous = json.loads(meta_path.read_text())
        stored = {k: previous.get(k) for k in fingerprint}
        if stored != fingerprint:
            raise ValueError(
                f"{out_dir} holds activations of another collection ({stored}); use a new directory"
            )
        if previous.get("complete") and not _missing_shards(out_dir, previous):
            logger.info("using the activation cache at %s", out_dir)
            return out_dir
    meta_path.write_text(json.dumps({**fingerprint, "complete": False}, indent=2))

    n_shards = _n_shards(fingerprint)
    n_kept = 0
    for shard in tqdm(range(n_shards), desc="caching activations", unit="shard"):
        path = _shard_path(out_dir, shard)
        rows = tokens_NL[shard * rows_per_shard : (shard + 1) * rows_per_shard]
        if path.exists():
            n_kept += int(keep_mask(rows, special).sum())
            continue
        parts = []
        with torch.inference_mode():
            for start in range(0, rows.shape[0], batch_size):
                batch = rows[start : start + batch_size].to(model.cfg.device)
                acts = activations_at_hook(model, batch, hook_name)
                mask = keep_mask(batch, special).to(acts.device)
                parts.append(acts[mask].to("cpu", torch.float16))
        shard_acts = torch.cat(parts)
        n_kept += shard_acts.shape[0]
        tmp = path.with_suffix(".tmp")
        save_file({"activations": shard_acts.contiguous()}, str(tmp))
        tmp.rename(path)
    meta_path.write_text(
        json.dumps({**fingerprint, "complete": True, "n_tokens": n_kept}, indent=2)
    )
    logger.info("cached %d activations in %d shards at %s", n_kept, n_shards, out_dir)
    return out_dir


def load_cached_activations(root: Path) -> torch.Tensor:
    """All cached activations as one [n_tokens, d_model] fp16 tensor."""
    meta_path = root / META
    if not meta_path.exists():
        raise FileNotFoundError(f"no activation cache at {root} (missing {META})")
    meta = json.loads(meta_path.read_text())
    missing = _missing_shards(root, meta) if "n_rows" in meta else []
    if not meta.get("complete") or missing:
        raise ValueError(
            f"activation cache at {root} is incomplete (missing shards {missing[:5]}); "
            "run the collection again to resume it"
        )
    shards = [_shard_path(root, i) for i in range(_n_shards(meta))]
    return torch.cat([load_file(str(p))["activations"] for p in shards])


def shuffled_batches(
    acts: torch.Tensor, batch_size: int, n_batches: int, seed: int
) -> Iterator[torch.Tensor]:
    """``n_batches`` fp32 batches, each epoch a fresh permutation of ``acts``."""
    generator = torch.Generator().manual_seed(seed)
    emitted = 0
    while emitted < n_batches:
        order = torch.randperm(acts.shape[0], generator=generator)
        for start in range(0, acts.shape[0] - batch_size + 1, batch_size):
            if emitted == n_batches:
                return
            yield acts[order[start : start + batch_size]].float()
            emitted += 1
