"""Where a latent's negative (non-activating) windows come from: one registry of sources.

- ``random``: any window (it may contain activations of the latent).
- ``random_negative``: uniform over windows where the latent is never non-zero.
- ``similar``: the windows nearest, in sentence-embedding space, to the latent's sampled
  activating windows (score of a window = cosine similarity to its nearest one).
- ``similar_negative``: as ``similar``, among windows where the latent is never non-zero.
- ``neighbour``: the top windows of the latents whose decoder directions are closest
  (cosine), taken round-robin closest latent first, among windows where the latent is
  never non-zero.

Every source excludes the latent's sampled train and test windows, so negatives never
repeat a train or test window. Sources that need more than the cache (an embedder and a
tokenizer, or the SAE's decoder) get them from :class:`NegativeSources`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from sae_interp.activations.records import WindowGrid, WindowKind
from sae_interp.activations.window_index import EmbedFn, most_similar, window_embeddings
from sae_interp.base.errors import SaeInterpError
from sae_interp.base.registry import Registry

if TYPE_CHECKING:
    from sae_interp.activations.cache import LatentCache


class NegativeSourceError(SaeInterpError, ValueError):
    pass


@dataclass
class NegativeSources:
    """What the hard-negative sources need beyond the cache; built lazily and reused."""

    tokenizer: Any = None
    decoder: torch.Tensor | None = None  # [d_sae, d_in]
    embedder: str = "all-MiniLM-L6-v2"
    embed: EmbedFn | None = None  # overrides the sentence-transformers model (tests)
    _embeddings: dict[tuple[int, int], np.ndarray] = field(default_factory=dict, repr=False)
    _decoder_unit: torch.Tensor | None = field(default=None, repr=False)

    def embeddings(self, cache: LatentCache, grid: WindowGrid) -> np.ndarray:
        key = (id(cache), grid.window_len)
        if key not in self._embeddings:
            if self.tokenizer is None:
                raise NegativeSourceError(
                    "similar negatives need the model's tokenizer to embed windows"
                )
            self._embeddings[key] = window_embeddings(
                cache.tokens, grid, self.tokenizer, self.embedder, self.embed
            )
        return self._embeddings[key]

    def neighbours(self, latent: int, candidates: list[int]) -> list[int]:
        """``candidates`` (other latents) ordered by decoder cosine to ``latent``, closest
        first (ties by id)."""
        if self.decoder is None:
            raise NegativeSourceError("neighbour negatives need the SAE's decoder")
        if self._decoder_unit is None:
            dec = self.decoder.detach().float().cpu()
            self._decoder_unit = dec / dec.norm(dim=1, keepdim=True).clamp_min(1e-12)
        others = [c for c in candidates if c != latent]
        if not others:
            return []
        cos = (self._decoder_unit[others] @ self._decoder_unit[latent]).numpy()
        order = np.lexsort((np.asarray(others), -cos))
        return [others[i] for i in order]


@dataclass
class SamplingContext:
    cache: LatentCache
    grid: WindowGrid
    latent: int
    n_neighbour_latents: int = 10  # the ``neighbour`` source's count of closest latents
    sampled: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sources: NegativeSources | None = None

    def need_sources(self, what: str) -> NegativeSources:
        if self.sources is None:
            raise NegativeSourceError(
                f"--sampling-negative-strategy {what} needs the model's tokenizer and the "
                "SAE (sample records through an eval, or pass sources=NegativeSources(...))"
            )
        return self.sources


# (rng, windows the latent touches (non-zero anywhere), how many, context) -> window ids
NegativeSampler = Callable[[np.random.Generator, torch.Tensor, int, SamplingContext], np.ndarray]


@dataclass(frozen=True)
class NegativeSource:
    sample: NegativeSampler
    kind: WindowKind


NEGATIVE_SAMPLERS: Registry[NegativeSource] = Registry("negative source")


def _free(touched: torch.Tensor, ctx: SamplingContext, allow_touched: bool) -> np.ndarray:
    ok = np.ones(len(touched), dtype=bool) if allow_touched else ~touched.numpy()
    ok[ctx.sampled] = False
    return np.flatnonzero(ok)


def _uniform(rng: np.random.Generator, pool: np.ndarray, k: int) -> np.ndarray:
    return np.sort(rng.choice(pool, size=min(k, len(pool)), replace=False))


def _random(
    rng: np.random.Generator, touched: torch.Tensor, k: int, ctx: SamplingContext
) -> np.ndarray:
    return _uniform(rng, _free(touched, ctx, allow_touched=True), k)


def _random_negative(
    rng: np.random.Generator, touched: torch.Tensor, k: int, ctx: SamplingContext
) -> np.ndarray:
    return _uniform(rng, _free(touched, ctx, allow_touched=False), k)


def _similar(allow_touched: bool) -> NegativeSampler:
    def sample(
        rng: np.random.Generator, touched: torch.Tensor, k: int, ctx: SamplingContext
    ) -> np.ndarray:
        name = "similar" if allow_touched else "similar_negative"
        embeddings = ctx.need_sources(name).embeddings(ctx.cache, ctx.grid)
        pool = _free(touched, ctx, allow_touched)
        return most_similar(embeddings, ctx.sampled.tolist(), pool, k)

    return sample


def _neighbour(
    rng: np.random.Generator, touched: torch.Tensor, k: int, ctx: SamplingContext
) -> np.ndarray:
    sources = ctx.need_sources("neighbour")
    n_latents = ctx.n_neighbour_latents
    neighbours = sources.neighbours(ctx.latent, ctx.cache.latent_ids)[:n_latents]
    allowed = np.zeros(len(touched), dtype=bool)
    allowed[_free(touched, ctx, allow_touched=False)] = True
    ranked: list[list[int]] = []
    for other in neighbours:
        entries = ctx.cache.latent_entries(other)
        maxima = ctx.grid.window_max(entries.seq, entries.pos, entries.value)
        ids = torch.nonzero(maxima > 0).flatten()
        order = torch.argsort(maxima[ids], descending=True, stable=True)
        ranked.append([int(w) for w in ids[order].tolist() if allowed[w]])
    chosen: list[int] = []
    seen: set[int] = set()
    for depth in range(max((len(r) for r in ranked), default=0)):
        for windows in ranked:
            if len(chosen) == k:
                return np.asarray(chosen, dtype=np.int64)
            if depth < len(windows) and windows[depth] not in seen:
                seen.add(windows[depth])
                chosen.append(windows[depth])
    return np.asarray(chosen, dtype=np.int64)


NEGATIVE_SAMPLERS.register("random", NegativeSource(_random, WindowKind.random))
NEGATIVE_SAMPLERS.register(
    "random_negative", NegativeSource(_random_negative, WindowKind.random_negative)
)
NEGATIVE_SAMPLERS.register("similar", NegativeSource(_similar(True), WindowKind.similar))
NEGATIVE_SAMPLERS.register(
    "similar_negative", NegativeSource(_similar(False), WindowKind.similar_negative)
)
NEGATIVE_SAMPLERS.register("neighbour", NegativeSource(_neighbour, WindowKind.neighbour_negative))
