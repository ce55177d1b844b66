"""The arms of a run of an explanation-based eval, as values: each is the same
explain-and-score pipeline on one set of latents, built by :func:`arms` and scored by
:func:`score_arm`.

- ``real``: the SAE's own latents, each scored with its explanation and, in the same call,
  with another latent's (the shuffled-explanation control);
- ``random_sae``: the whole pipeline on ``random_like(sae)``, on latents matched to the
  SAE's by firing frequency (its own collection, explanations and scores);
- ``random_model``: the whole pipeline on the same SAE recipe trained on a random-weights
  copy of the model, run on that model, on latents matched the same way (Heap et al. 2025:
  what an SAE finds in a transformer that learned nothing);
- ``seed_<s>``: the SAE's latents again with test windows, negatives, control explanations
  and judge order drawn with seed ``s``, reusing the activation cache and the explanations
  (train windows are kept, and a reseeded test set never contains a window the explainer
  saw).

The two frequency-matched arms are :data:`MATCHED_CONTROLS`; :func:`random_sae_setup` and
:func:`reseeded_records` build what any eval needs for the random-SAE and reseed arms (the
agentic eval runs its own stages on them).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sae_interp.activations.latents import latent_cache_for, match_by_frequency
from sae_interp.activations.records import LatentRecord, RecordStatus
from sae_interp.distributed.shards import forgets
from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.evals.common.latent_loop import run_latents
from sae_interp.evals.common.records import (
    PLACEHOLDER_EXPLANATION,
    Setup,
    explanation_store,
    prepare,
    refresh_explanations,
    results_path,
    sampled_records,
)
from sae_interp.evals.common.resources import EvalResources
from sae_interp.evals.common.scored_models import (
    RANDOM_MODEL,
    RANDOM_SAE,
    REAL,
    LatentScore,
    ScoredEval,
)
from sae_interp.explainers import registry as explainers
from sae_interp.explainers.explanations import Explanation, ExplanationStore
from sae_interp.framework.failures import FAILED_STATUSES, error_kind
from sae_interp.framework.latent_store import LatentStore
from sae_interp.framework.runner import EvalContext
from sae_interp.llm.errors import LLMError
from sae_interp.llm.service import recorded_failures
from sae_interp.llm.types import LLMRequest
from sae_interp.models.lazy import LazyModel
from sae_interp.saes.loading import check_sae_fits, load_sae
from sae_interp.saes.random_sae import random_like
from sae_interp.scorers.base import LatentScorer, ScoreItem
from sae_interp.scorers.controls import shuffled_explanation_sources

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Arm:
    """One arm of a run: the latents it scores, in the context it runs in (the random SAE
    in place of the SAE, or the seed in the config), with their records and explanations;
    ``controls`` maps a latent to the latent whose explanation is its shuffled control (None:
    no such control in this arm); ``store`` keeps the arm's finished per-latent results."""

    name: str
    ctx: EvalContext[Any]
    latents: list[int]
    records: dict[int, LatentRecord]
    explanations: dict[int, Explanation]
    controls: dict[int, int] | None
    store: LatentStore[Any]
    seed: int  # the seed its test windows, negatives, controls and judge order come from

    @property
    def desc(self) -> str:
        """What its progress bar says."""
        eval_type_id = self.ctx.config.eval_type_id
        if self.name == REAL:
            return eval_type_id
        control = next((c for c in MATCHED_CONTROLS if c.name == self.name), None)
        if control is not None:
            return f"{eval_type_id} ({control.label})"
        return f"{eval_type_id} (seed {self.seed})"


def arms(
    ctx: EvalContext[Any], spec: ScoredEval, resources: EvalResources, setup: Setup
) -> Iterator[Arm]:
    """The arms the config asks for, each built when the previous one has been scored:
    ``real``, then ``random_sae`` (``--random-sae-control``), then one per extra seed
    (``--seeds``)."""
    cfg: ExplainedEvalConfig = ctx.config
    tokenizer = ctx.tokenizer
    shuffled = cfg.shuffled_control and spec.needs_explanation
    explanations = explainers.explanations(
        cfg, setup.usable, tokenizer, resources, setup.store, setup.given, spec.needs_explanation
    )
    controls = control_sources(explanations, shuffled, cfg.seed)
    yield Arm(
        REAL, ctx, setup.latents, setup.records, explanations, controls, setup.results, cfg.seed
    )
    for control in matched_controls(cfg):
        matched = control.setup(ctx, setup, forgets_explanations(cfg, spec))
        yield Arm(
            control.name,
            matched.ctx,
            matched.latents,
            matched.records,
            explainers.explanations(
                cfg,
                matched.usable,
                tokenizer,
                resources,
                matched.store,
                needed=spec.needs_explanation,
            ),
            None,
            LatentStore(
                results_path(ctx, forgets(cfg.force), suffix=control.suffix), spec.result_cls
            ),
            cfg.seed,
        )
    for seed in extra_seeds(cfg):
        seeded = seeded_context(ctx, seed)
        yield Arm(
            f"seed_{seed}",
            seeded,
            setup.latents,
            reseeded_records(ctx, setup, seed),
            explanations,
            control_sources(explanations, shuffled, seed),
            LatentStore(
                results_path(seeded, forgets(cfg.force), suffix="_reseed"), spec.result_cls
            ),
            seed,
        )


def forgets_explanations(cfg: ExplainedEvalConfig, spec: ScoredEval) -> bool:
    """Whether this run (or, in a sharded run, this stage) asks every explanation again:
    ``--force`` without ``--reuse-explanations``, for a scorer that reads explanations."""
    return forgets(refresh_explanations(cfg)) and spec.needs_explanation


def prepare_shards(ctx: EvalContext[Any], spec: ScoredEval) -> None:
    """What the shards of a sharded run of ``spec`` on ``ctx`` read, made before they start
    (:mod:`sae_interp.distributed.shards`): the latent caches of the SAE and of its matched
    controls; with ``--force``, every store emptied (the per-latent results of each arm, and
    the explanations of every SAE unless ``--reuse-explanations``)."""
    cfg: ExplainedEvalConfig = ctx.config
    fresh, fresh_explanations = forgets(cfg.force), forgets_explanations(cfg, spec)
    setup = prepare(ctx, spec.result_cls, fresh=fresh, fresh_explanations=fresh_explanations)
    if fresh:
        for control in MATCHED_CONTROLS:
            results_path(ctx, True, suffix=control.suffix)
        for seed in extra_seeds(cfg):
            results_path(seeded_context(ctx, seed), True, suffix="_reseed")
    for control in matched_controls(cfg):
        control.setup(ctx, setup, fresh_explanations)


def score_arm(
    spec: ScoredEval, arm: Arm, resources: EvalResources | None
) -> list[LatentScore[Any, Any]]:
    """Score the latents of ``arm`` not in its store yet (each with its own explanation and,
    when the arm has a control for it, another latent's), storing each group as it
    finishes; returns every latent's result in order. A latent whose explanation or scoring
    failed is returned with its failure but not stored, so the next run retries exactly
    it."""
    scorer = spec.make_scorer(arm.ctx, resources)

    def score_group(group_latents: list[int]) -> list[LatentScore[Any, Any]]:
        shells = [_shell(spec.result_cls, arm, latent) for latent in group_latents]
        pairs = [(result, item, control) for result, items in shells for item, control in items]
        with recorded_failures() as failed:
            outcomes = scorer.score([item for _, item, _ in pairs]) if pairs else []
        for (result, _, control), outcome in zip(pairs, outcomes, strict=True):
            metrics = scorer.metrics(outcome)
            if control:
                result.control_outcome, result.control_metrics = outcome, metrics
            else:
                result.outcome, result.metrics = outcome, metrics
        if failed:
            mark_scoring_failures(scorer, shells, failed)
        return [result for result, _ in shells]

    # LLM scorers work on the next group while one finishes (one queue, no idle boundary)
    usable = [
        r for r in arm.records.values() if r.status == RecordStatus.ok and r.latent not in arm.store
    ]
    probe = [ScoreItem(r, PLACEHOLDER_EXPLANATION) for r in usable[:1]]
    uses_llm = bool(probe) and bool(scorer.planned_requests(probe[0]))
    group = max(1, arm.ctx.config.llm.effective_concurrency())
    return run_latents(
        arm.latents,
        arm.store,
        score_group,
        group=group,
        desc=arm.desc,
        overlap=2 if uses_llm else 1,
    )


def _shell(
    result_cls: type[LatentScore[Any, Any]], arm: Arm, latent: int
) -> tuple[LatentScore[Any, Any], list[tuple[ScoreItem, bool]]]:
    """The result of one latent before scoring, and the (item, is_control) pairs to score."""
    record, explanation = arm.records[latent], arm.explanations.get(latent)
    result = result_cls(latent=record.latent, status=record.status.value)
    if record.status != RecordStatus.ok or explanation is None:
        return result, []
    if explanation.text is None:
        result.status, result.explanation_error = "explanation_failed", explanation.error
        result.error_kind = explanation.error_kind or "unknown"
        return result, []
    result.explanation = explanation.text or None  # empty for explanation-free scorers
    result.explanation_source = explanation.source
    result.explanation_cost = explanation.cost
    items = [(ScoreItem(record, explanation.text, tuple(explanation.rules or ())), False)]
    if arm.controls is not None and latent in arm.controls:
        source = arm.explanations[arm.controls[latent]]
        result.control_explanation_of = arm.controls[latent]
        items.append((ScoreItem(record, source.text or "", tuple(source.rules or ())), True))
    elif arm.controls is not None:
        result.control_note = "no other latent has an explanation with a different text"
    return result, items


def mark_scoring_failures(
    scorer: LatentScorer,
    shells: Sequence[tuple[Any, list[tuple[ScoreItem, bool]]]],
    failed: dict[LLMRequest, LLMError],
) -> None:
    """Mark the latents whose scoring requests failed (after the LLM layer's retries) as
    ``scoring_failed``: their partial scores are kept for audit but not pooled, and they are
    not stored. A failure no latent's planned requests explain fails the whole group (its
    successful answers are cached, so the rerun costs only the failed calls)."""
    explained: set[LLMRequest] = set()
    for result, items in shells:
        planned = [q for item, _ in items for q in scorer.planned_requests(item)]
        error = next((failed[q] for q in planned if q in failed), None)
        explained.update(q for q in planned if q in failed)
        if error is not None:
            _fail_scoring(result, error)
    rest = [error for request, error in failed.items() if request not in explained]
    if rest:
        for result, items in shells:
            if items and result.status not in FAILED_STATUSES:
                _fail_scoring(result, rest[0])


def _fail_scoring(result: Any, error: LLMError) -> None:
    result.status, result.scoring_error = "scoring_failed", str(error)
    result.error_kind = error_kind(error)
    result.metrics = result.control_metrics = None


def control_sources(
    explanations: dict[int, Explanation], enabled: bool, seed: int
) -> dict[int, int] | None:
    """Which latent's explanation each latent is controlled with (never one whose text
    equals its own); None when the control is off."""
    if not enabled:
        return None
    texts = {latent: e.text for latent, e in explanations.items() if e.text is not None}
    return shuffled_explanation_sources(list(texts), seed, texts)


def random_sae_spec(sae_spec: str, seed: int) -> str:
    return f"{sae_spec}#random_sae_{seed}"


@dataclasses.dataclass
class MatchedSetup:
    """A frequency-matched control of a run: the context with the control's SAE (and model)
    in place, its latents matched to the run's by firing frequency, their records and its
    explanation store."""

    ctx: EvalContext[Any]
    latents: list[int]
    records: dict[int, LatentRecord]
    store: ExplanationStore

    @property
    def usable(self) -> list[LatentRecord]:
        return [r for r in self.records.values() if r.status == RecordStatus.ok]


def matched_setup(
    control_ctx: EvalContext[Any], setup: Setup, fresh_explanations: bool = False
) -> MatchedSetup:
    """``control_ctx``'s SAE collected on its model over the run's corpus, with one latent
    per latent of ``setup`` (closest firing frequency, each used once)."""
    cfg: ExplainedEvalConfig = control_ctx.config
    sae, spec = control_ctx.sae, control_ctx.sae_spec
    cache = latent_cache_for(
        control_ctx.lazy_model, sae, cfg.corpus, cfg.n_tokens, cfg.ctx_len, cfg.batch_size
    )
    frequencies = [setup.records[latent].firing_frequency for latent in setup.latents]
    latents = match_by_frequency(frequencies, cache, cfg.sampling.min_activating)
    records = sampled_records(control_ctx, sae, cache, latents, cfg.seed)
    store = explanation_store(control_ctx, sae, spec, fresh_explanations)
    return MatchedSetup(control_ctx, latents, records, store)


def random_sae_setup(
    ctx: EvalContext[Any], setup: Setup, fresh_explanations: bool = False
) -> MatchedSetup:
    """``random_like(ctx.sae)`` on the run's model, matched to ``setup``'s latents."""
    cfg: ExplainedEvalConfig = ctx.config
    control_spec = random_sae_spec(ctx.sae_spec, cfg.random_sae_seed)
    logger.info("%s: random-SAE control (%s)", cfg.eval_type_id, control_spec)
    control_sae = random_like(ctx.sae, cfg.random_sae_seed)
    control_ctx = dataclasses.replace(ctx, sae=control_sae, sae_spec=control_spec)
    return matched_setup(control_ctx, setup, fresh_explanations)


def random_model_setup(
    ctx: EvalContext[Any], setup: Setup, fresh_explanations: bool = False
) -> MatchedSetup:
    """The SAE of ``ctx.sae``'s recipe trained on the random-weights model
    (``--random-model-saes``), on that model (``--random-model``), matched to ``setup``'s
    latents. Its result files carry the random model's spec as their model."""
    cfg: ExplainedEvalConfig = ctx.config
    model_spec, sae_spec = cfg.random_model_spec(), cfg.random_model_sae_for(ctx.sae_spec)
    logger.info("%s: random-model control (%s on %s)", cfg.eval_type_id, sae_spec, model_spec)
    model = LazyModel(model_spec, ctx.device, cfg.dtype)
    sae = load_sae(sae_spec, model=model.weightless(), device=ctx.device, dtype=cfg.dtype)
    check_sae_fits(model.weightless(), sae, cfg.ctx_len)
    trained_on, name = sae.cfg.model_name, model.cfg.model_name
    if trained_on and trained_on != name:
        logger.warning(
            "--random-model-saes %s records model %r, not the random-weights model %r",
            sae_spec,
            trained_on,
            name,
        )
    control_ctx = dataclasses.replace(
        ctx,
        config=cfg.model_copy(update={"model": model_spec}),
        lazy_model=model,
        sae=sae,
        sae_spec=sae_spec,
    )
    return matched_setup(control_ctx, setup, fresh_explanations)


@dataclasses.dataclass(frozen=True)
class MatchedControl:
    """A control arm on latents of another SAE matched by firing frequency: its arm name
    (also its result store's suffix), the config flag that asks for it, how it is set up and
    what its progress bar says."""

    name: str
    flag: str
    setup: Callable[[EvalContext[Any], Setup, bool], MatchedSetup]
    label: str

    @property
    def suffix(self) -> str:
        return f"_{self.name}"

    def enabled(self, cfg: ExplainedEvalConfig) -> bool:
        return bool(getattr(cfg, self.flag, False))


MATCHED_CONTROLS = (
    MatchedControl(RANDOM_SAE, "random_sae_control", random_sae_setup, "random SAE"),
    MatchedControl(RANDOM_MODEL, "random_model_control", random_model_setup, "random model"),
)


def matched_controls(cfg: ExplainedEvalConfig) -> list[MatchedControl]:
    """The frequency-matched controls ``cfg`` asks for, in arm order."""
    return [control for control in MATCHED_CONTROLS if control.enabled(cfg)]


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
        ctx.lazy_model, ctx.sae, cfg.corpus, cfg.n_tokens, cfg.ctx_len, cfg.batch_size
    )
    drawn = sampled_records(ctx, ctx.sae, cache, setup.latents, seed)
    return {latent: with_train_of(r, setup.records[latent]) for latent, r in drawn.items()}


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
