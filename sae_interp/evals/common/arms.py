"""The controls and reruns of an explanation-based eval that go beyond the SAE's own
latents, each through the same explain-and-score loop:

- the random-SAE control: the whole pipeline on ``random_like(sae)``, on latents matched to
  the SAE's latents by firing frequency (its own collection, explanations and scores);
- reseeds: the test windows, negatives and judging drawn again with other seeds, reusing the
  activation cache and the explanations (train windows are kept, and a reseeded test set
  never contains a window the explainer saw).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from sae_interp.activations.latents import latent_cache_for, match_by_frequency
from sae_interp.activations.records import LatentRecord, RecordStatus
from sae_interp.activations.sampling import sample_records
from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.evals.common.resources import EvalResources
from sae_interp.evals.common.scored import (
    LatentScore,
    ScoredEval,
    Setup,
    control_sources,
    explanation_store,
    explanations_of,
    refresh_explanations,
    results_path,
    score_latents,
)
from sae_interp.explainers.explanations import Explanation
from sae_interp.framework.latent_store import LatentStore
from sae_interp.framework.runner import EvalContext
from sae_interp.saes.random_control import random_like

logger = logging.getLogger(__name__)


def random_sae_spec(sae_spec: str, seed: int) -> str:
    return f"{sae_spec}#random_sae_{seed}"


def random_sae_arm(
    ctx: EvalContext[Any], spec: ScoredEval, resources: EvalResources, setup: Setup
) -> list[LatentScore[Any, Any]]:
    """The eval on a random SAE of the same shape, latents matched by firing frequency."""
    cfg: ExplainedEvalConfig = ctx.config
    control_sae = random_like(ctx.sae, cfg.random_sae_seed)
    control_spec = random_sae_spec(ctx.sae_spec, cfg.random_sae_seed)
    logger.info("%s: random-SAE control (%s)", spec.eval_type_id, control_spec)
    cache = latent_cache_for(
        ctx.model, control_sae, cfg.corpus, cfg.n_tokens, cfg.ctx_len, cfg.batch_size
    )
    frequencies = [setup.records[latent].firing_frequency for latent in setup.latents]
    latents = match_by_frequency(frequencies, cache, cfg.sampling.min_activating)
    records = {r.latent: r for r in sample_records(cache, latents, cfg.sampling, cfg.seed)}
    usable = [r for r in records.values() if r.status == RecordStatus.ok]
    fresh = refresh_explanations(cfg) and spec.needs_explanation
    store = explanation_store(ctx, control_sae, control_spec, fresh)
    explanations = explanations_of(
        spec.needs_explanation, cfg, usable, ctx.model.tokenizer, resources, store
    )
    control_ctx = dataclasses.replace(ctx, sae=control_sae, sae_spec=control_spec)
    return score_latents(
        spec,
        spec.make_scorer(control_ctx, resources),
        latents,
        records,
        explanations,
        None,
        LatentStore(results_path(ctx, cfg.force, suffix="_random_sae"), spec.result_cls),
        max(1, cfg.llm.effective_concurrency()),
        f"{spec.eval_type_id} (random SAE)",
    )


def with_train_of(record: LatentRecord, base: LatentRecord) -> LatentRecord:
    """``record`` (drawn with another seed) with ``base``'s train windows, and without any
    test window the explainer saw in them."""
    seen = {(w.seq, w.start) for w in base.train}
    return record.model_copy(
        update={
            "train": base.train,
            "test": [w for w in record.test if (w.seq, w.start) not in seen],
        }
    )


def reseed_arms(
    ctx: EvalContext[Any],
    spec: ScoredEval,
    resources: EvalResources,
    setup: Setup,
    explanations: dict[int, Explanation],
) -> dict[int, list[LatentScore[Any, Any]]]:
    """Per extra seed in ``config.seeds``, the latents scored again on test windows,
    negatives, control explanations and judge order drawn with that seed."""
    cfg: ExplainedEvalConfig = ctx.config
    seeds = [s for s in dict.fromkeys(cfg.seeds or []) if s != cfg.seed]
    if not seeds:
        return {}
    cache = latent_cache_for(
        ctx.model, ctx.sae, cfg.corpus, cfg.n_tokens, cfg.ctx_len, cfg.batch_size
    )
    runs: dict[int, list[LatentScore[Any, Any]]] = {}
    for seed in seeds:
        seeded_ctx = dataclasses.replace(ctx, config=cfg.model_copy(update={"seed": seed}))
        records = {
            r.latent: with_train_of(r, setup.records[r.latent])
            for r in sample_records(cache, setup.latents, cfg.sampling, seed)
        }
        runs[seed] = score_latents(
            spec,
            spec.make_scorer(seeded_ctx, resources),
            setup.latents,
            records,
            explanations,
            control_sources(explanations, cfg.random_control and spec.needs_explanation, seed),
            LatentStore(results_path(seeded_ctx, cfg.force, suffix="_reseed"), spec.result_cls),
            max(1, cfg.llm.effective_concurrency()),
            f"{spec.eval_type_id} (seed {seed})",
        )
    return runs
