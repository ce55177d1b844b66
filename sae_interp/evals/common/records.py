"""The records of one run of an explanation-based eval, and where its results and
explanations are kept: the latents to look at (chosen from the shared latent cache), their
train / test / negative windows, the explanation store of the SAE and the per-latent JSONL
that lets a killed run resume."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sae_interp.activations.cache import LatentCache
from sae_interp.activations.latents import latent_cache_for, select_latents
from sae_interp.activations.records import LatentRecord, RecordStatus
from sae_interp.activations.sampling import NegativeSources, SamplingConfig, sample_records
from sae_interp.base.errors import ExplanationsFileError
from sae_interp.base.paths import stable_hash
from sae_interp.distributed.shards import forget_store
from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.explainers.explanations import Explanation, ExplanationStore
from sae_interp.explainers.registry import contrast_windows, store_path, tree_progress_path
from sae_interp.framework.latent_store import LatentStore
from sae_interp.framework.runner import EvalContext
from sae_interp.interop.explanations import GivenExplanations, read_explanations
from sae_interp.saes.base import BaseSAE, sae_fingerprint

logger = logging.getLogger(__name__)

PLACEHOLDER_EXPLANATION = " ".join(["word"] * 12)  # typical explanation length, for estimates


@dataclass
class Setup:
    latents: list[int]
    records: dict[int, LatentRecord]
    usable: list[LatentRecord]
    store: ExplanationStore
    results: LatentStore[Any]
    given: dict[int, Explanation]  # from --explanations
    cache: LatentCache  # the latent cache the records came from


def sampled_records(
    ctx: EvalContext[Any],
    sae: BaseSAE,
    cache: LatentCache,
    latents: Sequence[int],
    seed: int,
    sampling: SamplingConfig | None = None,
) -> dict[int, LatentRecord]:
    """Records of ``latents`` drawn from ``cache`` with ``seed``, with the negative sources
    (embedding index, decoder neighbours) of ``sae`` for the hard-negative strategies, and
    the contrast windows the config's explainer shows, if any."""
    sampling = sampling or ctx.config.sampling
    sources = NegativeSources(ctx.tokenizer, sae.W_dec, embedder=sampling.similar_embedder)
    n_contrast = contrast_windows(ctx.config)
    sampled = sample_records(cache, latents, sampling, seed, sources=sources, n_contrast=n_contrast)
    return {r.latent: r for r in sampled}


def latent_records(
    ctx: EvalContext[Any], sampling: SamplingConfig, sae: BaseSAE | None = None
) -> tuple[LatentCache, list[int], dict[int, LatentRecord]]:
    """The shared latent cache of (model, SAE, corpus), the latents to look at and their
    records. ``sae`` overrides the context's SAE (e.g. a random-SAE control)."""
    cfg = ctx.config
    sae = sae or ctx.sae
    cache = latent_cache_for(
        ctx.lazy_model, sae, cfg.corpus, cfg.n_tokens, cfg.ctx_len, cfg.batch_size
    )
    given_file = getattr(cfg, "explanations", None)
    explicit = cfg.latents or (given_explanations(cfg).latents() if given_file else None)
    latents = select_latents(cache, explicit, cfg.n_latents, cfg.seed, sampling.min_activating)
    beyond = [latent for latent in latents if latent >= sae.cfg.d_sae]
    if beyond:
        logger.warning(
            "%d requested latents are beyond the SAE's %d latents (reported as out_of_range): %s",
            len(beyond),
            sae.cfg.d_sae,
            beyond[:10],
        )
    inside = [latent for latent in latents if latent < sae.cfg.d_sae]
    records = sampled_records(ctx, sae, cache, inside, cfg.seed, sampling)
    for latent in beyond:
        records[latent] = LatentRecord(
            latent=latent,
            status=RecordStatus.out_of_range,
            n_activating_windows=0,
            max_activation=0.0,
            firing_frequency=0.0,
        )
    return cache, latents, records


def given_explanations(cfg: ExplainedEvalConfig) -> GivenExplanations:
    """The explanations of ``--explanations``, checked against the digest the config took
    when it was made (the file must not change during a run)."""
    assert cfg.explanations is not None
    given = read_explanations(cfg.explanations)
    if given.digest != cfg.explanations_digest:
        raise ExplanationsFileError(
            f"--explanations: {cfg.explanations} changed after the run's settings were read"
        )
    return given


def results_path(ctx: EvalContext[Any], fresh: bool, suffix: str = "") -> Path:
    """Per-latent JSONL of a run, keyed by every setting that changes a latent's result
    (removed first when ``fresh``)."""
    cfg = ctx.config
    run_key = stable_hash(cfg.result_settings())[:12]
    path = ctx.work_dir / f"latents_{run_key}{suffix}.jsonl"
    if fresh:
        forget_store(path)
    return path


def refresh_explanations(cfg: ExplainedEvalConfig) -> bool:
    """``--force`` recomputes explanations too, unless ``--reuse-explanations``."""
    return cfg.force and not cfg.reuse_explanations


def explanation_store(
    ctx: EvalContext[Any], sae: BaseSAE, sae_spec: str, fresh: bool = False
) -> ExplanationStore:
    """The explanation store of ``sae`` (emptied first when ``fresh``)."""
    cfg: ExplainedEvalConfig = ctx.config
    path = store_path(cfg, sae_spec, sae_fingerprint(sae))
    if fresh:
        forget_store(path)
        forget_store(tree_progress_path(path))
    return ExplanationStore(path)


def prepare(
    ctx: EvalContext[Any],
    result_cls: type[BaseModel],
    fresh: bool,
    fresh_explanations: bool = False,
) -> Setup:
    """Records, explanation store and per-latent store (the latter emptied first when
    ``fresh``, the explanations when ``fresh_explanations``)."""
    cfg: ExplainedEvalConfig = ctx.config
    cache, latents, records = latent_records(ctx, cfg.sampling)
    store = explanation_store(ctx, ctx.sae, ctx.sae_spec, fresh_explanations)
    usable = [r for r in records.values() if r.status == RecordStatus.ok]
    given = given_explanations(cfg).as_explanations() if cfg.explanations else {}
    results = LatentStore(results_path(ctx, fresh), result_cls)
    return Setup(latents, records, usable, store, results, given, cache)
