"""A latent's top windows for its card, read back from the latent cache a stored result was
computed on (found by the same key the eval used), decoded with the model's tokenizer
(only the tokenizer is loaded, not the model). When the cache is gone, cards go without
windows."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from sae_interp.activations.cache import LatentCache
from sae_interp.activations.latents import latent_cache_key
from sae_interp.base.errors import SaeInterpError
from sae_interp.base.paths import cache_dir
from sae_interp.base.torch_utils import str_to_dtype

logger = logging.getLogger(__name__)

TokenWindow = tuple[list[str], list[float]]


def load_tokenizer(model_spec: str) -> Any | None:
    """The tokenizer of a model spec, without loading the model; None when unavailable."""
    from transformers import AutoTokenizer

    try:
        if model_spec == "embedded" or model_spec.startswith("embedded:"):
            from sae_interp.models.embedded import converted_dir
            from sae_interp.models.offline import hub_offline

            with hub_offline():
                name = model_spec.partition(":")[2]
                folder = converted_dir(name) if name else converted_dir()
                return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        local = Path(model_spec.partition("#")[0])
        if local.is_dir():
            return AutoTokenizer.from_pretrained(str(local), local_files_only=True)
        return AutoTokenizer.from_pretrained(model_spec)
    except (OSError, ValueError, SaeInterpError) as err:
        logger.warning("no tokenizer for %s (%s): cards without windows", model_spec, err)
        return None


def result_cache(data: dict[str, Any], root: Path | None = None) -> LatentCache | None:
    """The latent cache behind a stored explanation-based result, if it still exists."""
    cfg, prov = data["eval_config"], data["provenance"]
    try:
        key = latent_cache_key(
            prov["model_name"],
            str(str_to_dtype(cfg.get("dtype", "float32"))),
            prov["sae_fingerprint"],
            cfg["corpus"],
            cfg["n_tokens"],
            cfg["ctx_len"],
        )
    except (KeyError, TypeError, SaeInterpError) as err:
        logger.info("no latent cache key for this result (%s)", err)
        return None
    directory = (root or cache_dir("latents")) / key
    return LatentCache(directory) if LatentCache.is_complete(directory) else None


def top_windows(
    cache: LatentCache, latent: int, tokenizer: Any, n: int = 3, window_len: int = 32
) -> list[TokenWindow]:
    """The ``n`` windows (cut on the same grid as sampling: non-overlapping, ``window_len``
    tokens) with the highest activation of ``latent``, as (token texts, activations)."""
    if latent not in cache.latent_ids:
        return []
    dense = cache.dense_latent(latent)  # [N, L]
    n_seqs, ctx_len = dense.shape
    per = max(1, ctx_len // window_len)
    grid = dense[:, : per * window_len].reshape(n_seqs, per, window_len)
    peaks = grid.amax(dim=-1).flatten()
    order = torch.argsort(peaks, descending=True)[:n]
    tokens = cache.tokens
    out: list[TokenWindow] = []
    for flat in order.tolist():
        if peaks[flat] <= 0:
            break
        seq, w = divmod(flat, per)
        span = slice(w * window_len, (w + 1) * window_len)
        ids = tokens[seq, span].tolist()
        out.append(([tokenizer.decode([t]) for t in ids], dense[seq, span].tolist()))
    return out


def windows_for(
    data: dict[str, Any],
    latents: Sequence[int],
    tokenizer: Any | None = None,
    n: int = 3,
    cache_root: Path | None = None,
) -> dict[int, list[TokenWindow]]:
    """latent -> top windows for the latents of a stored result ({} when the cache or the
    tokenizer is unavailable)."""
    cache = result_cache(data, cache_root)
    if cache is None or not latents:
        return {}
    tokenizer = tokenizer or load_tokenizer(data["provenance"]["model_spec"])
    if tokenizer is None:
        return {}
    window_len = int((data["eval_config"].get("sampling") or {}).get("window_len", 32))
    return {latent: top_windows(cache, latent, tokenizer, n, window_len) for latent in latents}
