"""Find or build the latent cache for a (model, SAE, corpus, size) combination, and pick
which latents an eval looks at. Every explanation-based eval goes through here, so evals run
one after another on the same SAE share one collection."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformer_lens import HookedTransformer

from sae_interp.activations.cache import LatentCache
from sae_interp.activations.collect import CacheTarget, build_latent_caches
from sae_interp.base.paths import cache_dir, stable_hash
from sae_interp.data import load_corpus, open_corpus
from sae_interp.models.lazy import LazyModel
from sae_interp.saes.base import BaseSAE, sae_fingerprint

logger = logging.getLogger(__name__)


def latent_cache_key(
    model_name: str, dtype: str, sae_digest: str, corpus: str, n_tokens: int, ctx_len: int
) -> str:
    """The folder name of the latent cache of these settings (also used to find the cache
    behind a stored result)."""
    return stable_hash(
        {
            "model": model_name,
            "dtype": dtype,
            "sae": sae_digest,
            "corpus": open_corpus(corpus).fingerprint,
            "n_tokens": n_tokens,
            "ctx_len": ctx_len,
        }
    )[:24]


def latent_cache_for(
    model: HookedTransformer | LazyModel,
    sae: BaseSAE,
    corpus: str,
    n_tokens: int,
    ctx_len: int,
    batch_size: int,
    root: Path | None = None,
) -> LatentCache:
    """The sparse latent cache of ``sae`` on ``model`` over the first ``n_tokens`` of
    ``corpus`` in sequences of ``ctx_len`` tokens, collected ``batch_size`` sequences per
    forward pass the first time and read from ``root`` (default: the user cache) after;
    keyed by the model, its dtype, the SAE's fingerprint, the corpus and the sizes, so every
    eval on the same (model, SAE, corpus) shares it."""
    (cache,) = latent_caches_for(model, [sae], corpus, n_tokens, ctx_len, batch_size, root)
    return cache


def latent_caches_for(
    model: HookedTransformer | LazyModel,
    saes: Sequence[BaseSAE],
    corpus: str,
    n_tokens: int,
    ctx_len: int,
    batch_size: int,
    root: Path | None = None,
) -> list[LatentCache]:
    """:func:`latent_cache_for` of each SAE; those still to collect share one forward pass
    per hook (each SAE at a hook encodes the same activations into its own cache). A
    :class:`LazyModel` loads its weights only when a cache is missing."""
    directories = [
        (root or cache_dir("latents"))
        / latent_cache_key(
            model.cfg.model_name, str(model.cfg.dtype), sae_fingerprint(sae), corpus, n_tokens,
            ctx_len,
        )
        for sae in saes
    ]  # fmt: skip
    caches: dict[int, LatentCache] = {}
    missing: dict[str, list[int]] = {}
    for i, directory in enumerate(directories):
        if LatentCache.is_complete(directory):
            logger.info("reusing latent cache %s", directory)
            caches[i] = LatentCache(directory)
        else:
            missing.setdefault(saes[i].cfg.hook_name, []).append(i)
    if missing:  # the weights are needed now
        weights = model.get() if isinstance(model, LazyModel) else model
        assert weights.tokenizer is not None
        tokens = load_corpus(corpus, weights.tokenizer, n_tokens, ctx_len)
    for hook, indices in missing.items():
        if len(indices) > 1:
            logger.info("collecting %d SAEs at %s in one pass", len(indices), hook)
        targets = [
            CacheTarget(
                saes[i],
                directories[i],
                meta={"model": model.cfg.model_name, "sae": saes[i].cfg.model_dump(),
                      "corpus": corpus},
            )
            for i in indices
        ]  # fmt: skip
        built = build_latent_caches(weights, targets, tokens, batch_size=batch_size)
        for i, cache in zip(indices, built, strict=True):
            cache.collected_now = True
            caches[i] = cache
    return [caches[i] for i in range(len(saes))]


def select_latents(
    cache: LatentCache,
    explicit: Sequence[int] | None,
    n_latents: int,
    seed: int,
    min_count: int = 1,
) -> list[int]:
    """The explicit list if given; otherwise ``n_latents`` random latents among those that
    fired on at least ``min_count`` tokens (as SAEBench samples latents above a minimum
    activation count: rarer latents cannot fill an eval's example windows; dead latents are
    counted by the eval, not sampled)."""
    if explicit:
        return list(explicit)
    eligible = torch.nonzero(cache.stats.count >= max(1, min_count)).flatten().tolist()
    alive = [cache.latent_ids[i] for i in eligible]
    rng = np.random.default_rng(seed)
    if len(alive) <= n_latents:
        return sorted(alive)
    return sorted(int(x) for x in rng.choice(alive, size=n_latents, replace=False))


def match_by_frequency(
    frequencies: Sequence[float], cache: LatentCache, min_count: int = 1
) -> list[int]:
    """For each firing frequency, the latent of ``cache`` (among those that fired on at least
    ``min_count`` tokens, each used once) whose frequency is closest, taken in the order
    given: how a control SAE's latents are matched to the latents an eval looks at. Fewer
    latents come back when the cache has fewer eligible ones."""
    eligible = torch.nonzero(cache.stats.count >= max(1, min_count)).flatten()
    freq = cache.stats.frequency[eligible].double().numpy()
    free = np.ones(len(eligible), dtype=bool)
    chosen: list[int] = []
    for target in frequencies:
        if not free.any():
            break
        gap = np.where(free, np.abs(freq - target), np.inf)
        best = int(np.argmin(gap))
        free[best] = False
        chosen.append(int(cache.latent_ids[int(eligible[best])]))
    return chosen
