"""Sample train / test / negative windows for each latent from a sparse latent cache.

Every sequence is cut into non-overlapping windows of ``window_len`` tokens (after the BOS
position). A window is activating when its max activation exceeds the threshold. Train
windows are drawn first; test windows from what remains, so the two never share a window.
Activating and negative samplers are registries, so new strategies plug in by name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from pydantic import Field, field_validator
from tqdm.auto import tqdm

from sae_interp.activations.cache import LatentCache, SparseEntries
from sae_interp.activations.negatives import NEGATIVE_SAMPLERS, NegativeSources, SamplingContext
from sae_interp.activations.records import (
    LatentRecord,
    RecordStatus,
    Window,
    WindowGrid,
    WindowKind,
)
from sae_interp.base import FrozenModel
from sae_interp.base.registry import Registry

logger = logging.getLogger(__name__)

CONTRAST = NEGATIVE_SAMPLERS.get("similar_negative")  # where a record's contrast windows come from


class SamplingConfig(FrozenModel):
    window_len: int = Field(default=32, gt=0, description="Tokens per example window.")
    activation_threshold: float = Field(
        default=0.0, ge=0, description="A window is activating if its max exceeds this."
    )
    relative_threshold: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="...or this fraction of the latent's max (SAEBench: 0.01).",
    )
    n_train: int = Field(default=40, ge=0, description="Activating windows shown to the explainer.")
    train_strategy: str = Field(
        default="quantiles", description="top|quantiles|importance_weighted|random"
    )
    n_test: int = Field(default=50, ge=0, description="Activating windows shown to scorers.")
    test_strategy: str = Field(default="quantiles", description="Sampler for test windows.")
    n_negatives: int = Field(default=50, ge=0, description="Non-activating windows for scorers.")
    negative_strategy: str = Field(
        default="random_negative",
        description="Where negatives come from: random (any window) | random_negative (windows "
        "where the latent is zero) | similar | similar_negative (nearest to the activating "
        "windows in sentence-embedding space; _negative: only where the latent is zero) | "
        "neighbour (top windows of the latents with the closest decoder directions).",
    )
    similar_embedder: str = Field(
        default="all-MiniLM-L6-v2",
        description="Sentence embedder of the window index used by similar negatives.",
    )
    n_neighbour_latents: int = Field(
        default=10, gt=0, description="Closest latents whose top windows neighbour negatives use."
    )
    n_quantiles: int = Field(default=10, gt=0, description="Bins for quantile sampling.")
    importance_skip_top: int = Field(
        default=10, ge=0, description="importance_weighted ignores this many top windows."
    )
    min_activating: int = Field(
        default=10,
        ge=1,
        description=(
            "Latents with fewer activating windows are 'too rare'; latents with fewer activating "
            "tokens are not sampled."
        ),
    )

    @field_validator("negative_strategy")
    @classmethod
    def _known_negative_strategy(cls, value: str) -> str:
        return NEGATIVE_SAMPLERS.validate(value)

    @field_validator("train_strategy", "test_strategy")
    @classmethod
    def _known_activating_strategy(cls, value: str) -> str:
        return ACTIVATING_SAMPLERS.validate(value)


# An activating sampler gets the ranked pool (window ids, best first), their quantile bins
# and maxima, and returns positions into that pool.
ActivatingSampler = Callable[
    [np.random.Generator, np.ndarray, np.ndarray, int, SamplingConfig], np.ndarray
]
ACTIVATING_SAMPLERS: Registry[ActivatingSampler] = Registry("activating sampler")


@ACTIVATING_SAMPLERS.decorator("top")
def _top(
    rng: np.random.Generator, bins: np.ndarray, maxima: np.ndarray, k: int, cfg: SamplingConfig
) -> np.ndarray:
    return np.arange(min(k, len(bins)))


@ACTIVATING_SAMPLERS.decorator("random")
def _random(
    rng: np.random.Generator, bins: np.ndarray, maxima: np.ndarray, k: int, cfg: SamplingConfig
) -> np.ndarray:
    return np.sort(rng.choice(len(bins), size=min(k, len(bins)), replace=False))


@ACTIVATING_SAMPLERS.decorator("quantiles")
def _quantiles(
    rng: np.random.Generator, bins: np.ndarray, maxima: np.ndarray, k: int, cfg: SamplingConfig
) -> np.ndarray:
    """The same number from every bin (earlier bins take the remainder); a bin with too few
    windows gives what it has and the shortfall moves to the next bins."""
    n_bins = int(bins.max()) + 1 if len(bins) else 0
    chosen: list[np.ndarray] = []
    remaining = min(k, len(bins))
    for b in range(n_bins):
        members = np.flatnonzero(bins == b)
        want = -(-remaining // (n_bins - b))
        take = min(want, len(members))
        chosen.append(np.sort(rng.choice(members, size=take, replace=False)))
        remaining -= take
    return np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)


@ACTIVATING_SAMPLERS.decorator("importance_weighted")
def _importance(
    rng: np.random.Generator, bins: np.ndarray, maxima: np.ndarray, k: int, cfg: SamplingConfig
) -> np.ndarray:
    """Sample proportional to activation squared, below the top ``importance_skip_top``."""
    pool = np.arange(min(cfg.importance_skip_top, len(bins)), len(bins))
    if len(pool) == 0:
        return pool
    weights = maxima[pool].astype(np.float64) ** 2
    probs = weights / weights.sum() if weights.sum() > 0 else None
    take = min(k, int(np.count_nonzero(weights)) if probs is not None else len(pool))
    return np.sort(rng.choice(pool, size=take, replace=False, p=probs))


def quantile_bins(n: int, n_bins: int) -> np.ndarray:
    """Bin of each rank in a best-first list of n items, equal-count bins (0 = top)."""
    return (np.arange(n) * n_bins) // max(n, 1)


def _split_sizes(n_pool: int, cfg: SamplingConfig) -> tuple[int, int]:
    want = cfg.n_train + cfg.n_test
    if n_pool >= want or want == 0:
        return cfg.n_train, cfg.n_test
    n_train = (n_pool * cfg.n_train) // want
    return n_train, n_pool - n_train


class RecordSampler:
    """Builds :class:`LatentRecord` objects from a cache for a given config and seed."""

    def __init__(
        self,
        cache: LatentCache,
        cfg: SamplingConfig,
        seed: int = 0,
        sources: NegativeSources | None = None,
        n_contrast: int = 0,
    ) -> None:
        self.cache = cache
        self.sources = sources
        self.n_contrast = n_contrast
        self.cfg = cfg
        self.seed = seed
        first = 1 if cache.meta.get("bos_prepended", True) else 0
        self.grid = WindowGrid(cache.n_seqs, cache.ctx_len, cfg.window_len, first)
        if self.grid.per_seq < 1:
            raise ValueError(f"window_len={cfg.window_len} does not fit in ctx_len={cache.ctx_len}")
        self._act = (
            ACTIVATING_SAMPLERS.get(cfg.train_strategy),
            ACTIVATING_SAMPLERS.get(cfg.test_strategy),
        )
        self._neg = NEGATIVE_SAMPLERS.get(cfg.negative_strategy)

    def record(self, latent: int) -> LatentRecord:
        cfg, grid = self.cfg, self.grid
        rng = np.random.default_rng([self.seed, latent])
        entries = self.cache.latent_entries(latent)
        maxima = grid.window_max(entries.seq, entries.pos, entries.value)
        touched = grid.window_max(entries.seq, entries.pos, entries.value.abs()) > 0
        latent_max = float(maxima.max()) if len(entries) else 0.0
        threshold = max(cfg.activation_threshold, cfg.relative_threshold * latent_max)
        active_ids = torch.nonzero(maxima > threshold).flatten()
        order = torch.argsort(maxima[active_ids], descending=True, stable=True)
        ranked = active_ids[order].numpy()
        ranked_max = maxima[ranked].numpy() if len(ranked) else np.zeros(0, dtype=np.float32)
        local = self.cache.local_index(latent)
        freq = float(self.cache.stats.frequency[local])
        base: dict[str, Any] = {
            "latent": latent,
            "n_activating_windows": len(ranked),
            "max_activation": latent_max,
            "firing_frequency": freq,
        }
        if len(entries) == 0:
            return LatentRecord(status=RecordStatus.dead, **base)
        if len(ranked) < cfg.min_activating:
            return LatentRecord(status=RecordStatus.too_rare, **base)
        bins = quantile_bins(len(ranked), cfg.n_quantiles)
        n_train, n_test = _split_sizes(len(ranked), cfg)
        train_pos = self._act[0](rng, bins, ranked_max, n_train, cfg)
        rest = np.setdiff1d(np.arange(len(ranked)), train_pos)
        test_pos = rest[self._act[1](rng, bins[rest], ranked_max[rest], n_test, cfg)]
        sampled = np.concatenate([ranked[train_pos], ranked[test_pos]]).astype(np.int64)
        context = SamplingContext(
            self.cache, grid, latent, cfg.n_neighbour_latents, sampled, self.sources
        )
        negatives = self._neg.sample(rng, touched, cfg.n_negatives, context)
        contrast = np.zeros(0, dtype=np.int64)
        if self.n_contrast:  # drawn last: the other windows are the same with or without it
            context.sampled = np.concatenate([sampled, negatives]).astype(np.int64)
            contrast = CONTRAST.sample(rng, touched, self.n_contrast, context)
        dense = self._dense_rows(
            entries, np.concatenate([ranked[train_pos], ranked[test_pos], negatives, contrast])
        )
        make = self._window
        return LatentRecord(
            status=RecordStatus.ok,
            train=[
                make(int(ranked[p]), dense, WindowKind.activating, int(bins[p])) for p in train_pos
            ],
            test=[
                make(int(ranked[p]), dense, WindowKind.activating, int(bins[p])) for p in test_pos
            ],
            negatives=[make(int(w), dense, self._neg.kind, None) for w in negatives],
            contrast=[make(int(w), dense, CONTRAST.kind, None) for w in contrast],
            **base,
        )

    def _dense_rows(self, entries: SparseEntries, windows: np.ndarray) -> dict[int, torch.Tensor]:
        """Dense activation rows of the sequences the chosen windows lie in."""
        seqs = torch.tensor(sorted({self.grid.span(int(w))[0] for w in windows}), dtype=torch.int32)
        rows = torch.zeros(len(seqs), self.cache.ctx_len)
        wanted = torch.isin(entries.seq, seqs)
        row_index = torch.searchsorted(seqs, entries.seq[wanted])
        rows[row_index, entries.pos[wanted].long()] = entries.value[wanted]
        return {int(s): rows[i] for i, s in enumerate(seqs)}

    def _window(
        self, window: int, dense: dict[int, torch.Tensor], kind: WindowKind, qbin: int | None
    ) -> Window:
        seq, start, end = self.grid.span(window)
        tokens = self._tokens[seq, start:end].tolist()
        return Window(
            seq=seq,
            start=start,
            end=end,
            tokens=tokens,
            activations=dense[seq][start:end].tolist(),
            kind=kind,
            quantile_bin=qbin,
        )

    @property
    def _tokens(self) -> torch.Tensor:
        if not hasattr(self, "_token_cache"):
            self._token_cache = self.cache.tokens
        return self._token_cache


def sample_records(
    cache: LatentCache,
    latents: Sequence[int],
    cfg: SamplingConfig,
    seed: int = 0,
    progress: bool = True,
    sources: NegativeSources | None = None,
    n_contrast: int = 0,
) -> list[LatentRecord]:
    """One record per latent of ``latents``: its train, test and negative windows drawn from
    ``cache`` as ``cfg`` says, every random choice derived from ``seed`` and the latent.
    ``sources`` gives the negative sources that need more than the cache (a tokenizer and
    embedder for similar negatives, the SAE's decoder for neighbour negatives); dead and
    too-rare latents come back as records with that status. ``n_contrast``: hard negatives
    per latent for a contrastive explainer (``similar_negative``, after the others)."""
    sampler = RecordSampler(cache, cfg, seed, sources, n_contrast)
    records = [
        sampler.record(int(latent))
        for latent in tqdm(latents, desc="sampling", disable=not progress, leave=False)
    ]
    skipped = sum(r.status != RecordStatus.ok for r in records)
    if skipped:
        logger.info("%d of %d latents skipped (dead or too rare)", skipped, len(records))
    return records


__all__ = [
    "ACTIVATING_SAMPLERS",
    "NEGATIVE_SAMPLERS",
    "NegativeSources",
    "RecordSampler",
    "SamplingConfig",
    "WindowGrid",
    "quantile_bins",
    "sample_records",
]
