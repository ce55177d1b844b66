"""The controls and reruns of an explanation-based eval that go beyond the SAE's own
latents:

- the random-SAE control: the whole pipeline on ``random_like(sae)``, on latents matched to
  the SAE's latents by firing frequency (its own collection, explanations and scores);
- reseeds: the test windows, negatives and judging drawn again with other seeds, reusing the
  activation cache and the explanations (train windows are kept, and a reseeded test set
  never contains a window the explainer saw).

:func:`random_sae_setup` and :func:`reseeded_records` build what any eval needs for them
(the agentic eval runs its own stages on them); :func:`random_sae_arm` and
:func:`reseed_arms` run them through the explain-and-score loop of the judge evals.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from sae_interp.activations.latents import latent_cache_for, match_by_frequency
from sae_interp.activations.records import LatentRecord, RecordStatus
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
    sampled_records,
    score_latents,
)
from sae_interp.explainers.explanations import Explanation, ExplanationStore
from sae_interp.framework.latent_store import LatentStore
from sae_interp.framework.runner import EvalContext
from sae_interp.saes.random_control import random_like

logger = logging.getLogger(__name__)


def random_sae_spec(sae_spec: str, seed: int) -> str:
    return f"{sae_spec}#random_sae_{seed}"


@dataclasses.dataclass
class RandomSAESetup:
    """The random-SAE control of a run: the context with ``random_like(sae)`` in place, its
    latents matched to the run's by firing frequency, their records and explanation store."""

    ctx: EvalContext[Any]
    latents: list[int]
    records: dict[int, LatentRecord]
    store: ExplanationStore

    @property
    def usable(self) -> list[LatentRecord]:
        return [r for r in self.records.values() if r.status == RecordStatus.ok]


def random_sae_setup(
    ctx: EvalContext[Any], setup: Setup, fresh_explanations: bool = False
) -> RandomSAESetup:
    """``random_like(ctx.sae)``, collected on the run's corpus, with one latent per latent of
    ``setup`` (closest firing frequency, each used once)."""
    cfg: ExplainedEvalConfig = ctx.config
    control_sae = random_like(ctx.sae, cfg.random_sae_seed)
    control_spec = random_sae_spec(ctx.sae_spec, cfg.random_sae_seed)
    logger.info("%s: random-SAE control (%s)", cfg.eval_type_id, control_spec)
    cache = latent_cache_for(
        ctx.model, control_sae, cfg.corpus, cfg.n_tokens, cfg.ctx_len, cfg.batch_size
    )
    frequencies = [setup.records[latent].firing_frequency for latent in setup.latents]
    latents = match_by_frequency(frequencies, cache, cfg.sampling.min_activating)
    control_ctx = dataclasses.replace(ctx, sae=control_sae, sae_spec=control_spec)
    records = sampled_records(control_ctx, control_sae, cache, latents, cfg.seed)
    store = explanation_store(ctx, control_sae, control_spec, fresh_explanations)
    return RandomSAESetup(control_ctx, latents, records, store)


def extra_seeds(cfg: ExplainedEvalConfig) -> list[int]:
    """``--seeds`` without the run's own seed, each once, in order."""
    return [s for s in dict.fromkeys(cfg.seeds or []) if s != cfg.seed]


def seeded_context(ctx: EvalContext[Any], seed: int) -> EvalContext[Any]:
    return dataclasses.replace(ctx, config=ctx.config.model_copy(update={"seed": seed}))


def reseeded_records(ctx: EvalContext[Any], setup: Setup, seed: int) -> dict[int, LatentRecord]:
    """The records of ``setup``'s latents drawn again with ``seed``, with the train windows
    of ``setup`` (what the explainer saw) and no test window among them."""
    cfg: ExplainedEvalConfig = ctx.config
    cache = latent_cache_for(
        ctx.model, ctx.sae, cfg.corpus, cfg.n_tokens, cfg.ctx_len, cfg.batch_size
    )
    drawn = sampled_records(ctx, ctx.sae, cache, setup.latents, seed)
    return {latent: with_train_of(r, setup.records[latent]) for latent, r in drawn.items()}


def random_sae_arm(
    ctx: EvalContext[Any], spec: ScoredEval, resources: EvalResources, setup: Setup
) -> tuple[EvalContext[Any], list[LatentScore[Any, Any]]]:
    """The eval on a random SAE of the same shape, latents matched by firing frequency: the
    context it ran in (``random_like(sae)`` in place) and its per-latent results."""
    cfg: ExplainedEvalConfig = ctx.config
    fresh = refresh_explanations(cfg) and spec.needs_explanation
    arm = random_sae_setup(ctx, setup, fresh)
    explanations = explanations_of(
        spec.needs_explanation, cfg, arm.usable, ctx.model.tokenizer, resources, arm.store
    )
    results = score_latents(
        spec,
        spec.make_scorer(arm.ctx, resources),
        arm.latents,
        arm.records,
        explanations,
        None,
        LatentStore(results_path(ctx, cfg.force, suffix="_random_sae"), spec.result_cls),
        max(1, cfg.llm.effective_concurrency()),
        f"{spec.eval_type_id} (random SAE)",
    )
    return arm.ctx, results


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
    runs: dict[int, list[LatentScore[Any, Any]]] = {}
    for seed in extra_seeds(cfg):
        seeded_ctx = seeded_context(ctx, seed)
        runs[seed] = score_latents(
            spec,
            spec.make_scorer(seeded_ctx, resources),
            setup.latents,
            reseeded_records(ctx, setup, seed),
            explanations,
            control_sources(explanations, cfg.random_control and spec.needs_explanation, seed),
            LatentStore(results_path(seeded_ctx, cfg.force, suffix="_reseed"), spec.result_cls),
            max(1, cfg.llm.effective_concurrency()),
            f"{spec.eval_type_id} (seed {seed})",
        )
    return runs
