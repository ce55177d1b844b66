"""Activation collection, the sparse latent cache, statistics and window sampling."""

from sae_interp.activations.cache import LatentCache, LatentCacheWriter, SparseEntries
from sae_interp.activations.collect import (
    build_latent_cache,
    iter_latent_batches,
    special_token_ids,
    valid_token_mask,
)
from sae_interp.activations.records import LatentRecord, RecordStatus, Window, WindowKind
from sae_interp.activations.sampling import (
    ACTIVATING_SAMPLERS,
    NEGATIVE_SAMPLERS,
    RecordSampler,
    SamplingConfig,
    WindowGrid,
    sample_records,
)
from sae_interp.activations.stats import LatentStats

__all__ = [
    "ACTIVATING_SAMPLERS",
    "NEGATIVE_SAMPLERS",
    "LatentCache",
    "LatentCacheWriter",
    "LatentRecord",
    "LatentStats",
    "RecordSampler",
    "RecordStatus",
    "SamplingConfig",
    "SparseEntries",
    "Window",
    "WindowGrid",
    "WindowKind",
    "build_latent_cache",
    "iter_latent_batches",
    "sample_records",
    "special_token_ids",
    "valid_token_mask",
]
