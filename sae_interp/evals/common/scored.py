"""The one loop of the explanation-based evals.

For one SAE: latent cache (shared) -> latents -> records (train / test / negatives) ->
explanations (stored, reused across evals) -> every latent scored with its own explanation
and, in the same call, with another latent's (random-explanation control) -> per-latent
results appended to a JSONL file as each group of latents finishes (a killed run resumes
where it stopped) -> pooled metrics. An eval contributes only its scorer and its summary.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sae_interp.activations.cache import LatentCache
from sae_interp.activations.latents import latent_cache_for, select_latents
from sae_interp.activations.records import LatentRecord, RecordStatus
from sae_interp.activations.sampling import NegativeSources, SamplingConfig, sample_records
from sae_interp.base.errors import ExplanationsFileError
from sae_interp.base.paths import stable_hash
from sae_interp.base.registry import Registry
from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.evals.common.failures import mark_scoring_failures
from sae_interp.evals.common.latent_loop import RECORD_STATUS_COUNTS, run_latents, status_counts
from sae_interp.evals.common.resources import EvalResources
from sae_interp.evals.common.scored_models import ExplainerCost, LatentScore
from sae_interp.explainers.explanations import Explanation, ExplanationStore
from sae_interp.explainers.kinds import (
    explain_records,
    store_path_for,
    tree_progress_path,
)
from sae_interp.framework.failures import failure_counts, merge_counts
from sae_interp.framework.latent_store import LatentStore
from sae_interp.framework.output import BaseEvalOutput
from sae_interp.framework.runner import EvalContext
from sae_interp.interop.explanations import GivenExplanations, read_explanations
from sae_interp.llm.service import UsageReport, recorded_failures
from sae_interp.saes.base import BaseSAE
from sae_interp.saes.fingerprint import sae_fingerprint
from sae_interp.scorers.base import LatentScorer, ScoreItem
from sae_interp.scorers.controls import shuffled_explanation_sources

logger = logging.getLogger(__name__)

PLACEHOLDER_EXPLANATION = " ".join(["word"] * 12)  # typical explanation length, for estimates


@dataclass
class ScoredRun:
    """What the loop hands to an eval's summary: the SAE's per-latent results and, when
    asked for, the same pipeline's results on a random SAE and under other seeds."""

    config: Any
    results: list[LatentScore[Any, Any]]
    llm_usage: dict[str, Any]
    random_sae_results: list[LatentScore[Any, Any]] = field(default_factory=list)
    random_sae_ctx: EvalContext[Any] | None = None  # where the random-SAE arm ran
    reseed_results: dict[int, list[LatentScore[Any, Any]]] = field(default_factory=dict)

    @property
    def metrics(self) -> list[Any]:
        return [r.metrics for r in self.results if r.metrics is not None]

    @property
    def control_metrics(self) -> list[Any]:
        return [r.control_metrics for r in self.results if r.control_metrics is not None]

    def counts(self) -> dict[str, Any]:
        return status_counts(
            self.results,
            **RECORD_STATUS_COUNTS,
            n_failed_explanations="explanation_failed",
            n_failed_scoring="scoring_failed",
            n_out_of_range=RecordStatus.out_of_range.value,
        ) | {
            "n_scored": len(self.metrics),
            "failures": self.failures(),
            "llm_usage": self.llm_usage,
            "explainer_cost": ExplainerCost.of(
                [r.explanation_cost for r in self.results if r.explanation_cost is not None]
            ),
        }

    def failures(self) -> dict[str, int]:
        """Unfinished latents by failure kind, over the SAE's latents and every arm."""
        arms = [self.results, self.random_sae_results, *self.reseed_results.values()]
        return merge_counts(failure_counts(results) for results in arms)


@dataclass(frozen=True)
class ScoredEval:
    """An explanation-based eval: how to build its scorer (``resources`` is None when only
    planning) and how to summarise its per-latent results into metrics."""

    eval_type_id: str
    config_cls: type[ExplainedEvalConfig]
    output_cls: type[BaseEvalOutput[Any, Any, Any]]
    result_cls: type[LatentScore[Any, Any]]
    make_scorer: Callable[[EvalContext[Any], EvalResources | None], LatentScorer]
    summarise: Callable[[ScoredRun], BaseModel]
    table_columns: tuple[str, ...] = ()
    needs_explanation: bool = True  # False: no explainer, no shuffled-explanation control


SCORED_EVALS: Registry[ScoredEval] = Registry("explanation-based eval")


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
    (embedding index, decoder neighbours) of ``sae`` for the hard-negative strategies."""
    sampling = sampling or ctx.config.sampling
    sources = NegativeSources(ctx.model.tokenizer, sae.W_dec, embedder=sampling.similar_embedder)
    sampled = sample_records(cache, latents, sampling, seed, sources=sources)
    return {r.latent: r for r in sampled}


def latent_records(
    ctx: EvalContext[Any], sampling: SamplingConfig, sae: BaseSAE | None = None
) -> tuple[LatentCache, list[int], dict[int, LatentRecord]]:
    """The shared latent cache of (model, SAE, corpus), the latents to look at and their
    records. ``sae`` overrides the context's SAE (e.g. a random-SAE control)."""
    cfg = ctx.config
    sae = sae or ctx.sae
    cache = latent_cache_for(ctx.model, sae, cfg.corpus, cfg.n_tokens, cfg.ctx_len, cfg.batch_size)
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
    if fresh and path.exists():
        path.unlink()
    return path


def refresh_explanations(cfg: ExplainedEvalConfig) -> bool:
    """``--force`` recomputes explanations too, unless ``--reuse-explanations``."""
    return cfg.force and not cfg.reuse_explanations


def explanation_store(
    ctx: EvalContext[Any], sae: BaseSAE, sae_spec: str, fresh: bool = False
) -> ExplanationStore:
    """The explanation store of ``sae`` (emptied first when ``fresh``)."""
    cfg: ExplainedEvalConfig = ctx.config
    path = store_path_for(cfg, sae_spec, sae_fingerprint(sae))
    if fresh:
        for stale in (path, tree_progress_path(ExplanationStore(path))):
            stale.unlink(missing_ok=True)
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


def usage_delta(before: UsageReport, after: UsageReport) -> dict[str, Any]:
    b, a = before.as_dict(), after.as_dict()
    return {
        k: (a[k] - b[k] if isinstance(a[k], (int, float)) and not isinstance(a[k], bool) else a[k])
        for k in a
    }


def with_per_latent(usage: dict[str, Any], n_latents: int) -> dict[str, Any]:
    """``usage`` plus prompt tokens per latent scored in this run (explanations included)
    and the fraction of prompt tokens the backend's prefix cache served (0 where it reports
    none)."""
    prompt = usage.get("prompt_tokens", 0)
    cached = usage.get("cached_prompt_tokens", 0)
    return usage | {
        "prompt_tokens_per_latent": prompt / n_latents if n_latents else 0.0,
        "cached_prompt_fraction": cached / prompt if prompt else 0.0,
    }


def _shell(
    result_cls: type[LatentScore[Any, Any]],
    record: LatentRecord,
    explanation: Explanation | None,
    controls: dict[int, int] | None,
    explanations: dict[int, Explanation],
) -> tuple[LatentScore[Any, Any], list[tuple[ScoreItem, bool]]]:
    """The result of one latent before scoring, and the (item, is_control) pairs to score.
    ``controls`` is None when the run has no shuffled-explanation control."""
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
    if controls is not None and record.latent in controls:
        source = explanations[controls[record.latent]]
        result.control_explanation_of = controls[record.latent]
        items.append((ScoreItem(record, source.text or "", tuple(source.rules or ())), True))
    elif controls is not None:
        result.control_note = "no other latent has an explanation with a different text"
    return result, items


def explanations_of(
    needs_explanation: bool,
    cfg: ExplainedEvalConfig,
    records: Sequence[LatentRecord],
    tokenizer: Any,
    resources: EvalResources,
    store: ExplanationStore,
    given: dict[int, Explanation] | None = None,
) -> dict[int, Explanation]:
    """The records' explanations: ``given`` ones (``--explanations``) as they are, stored
    ones reused, the rest made by the configured explainer and stored; empty texts for an
    explanation-free scorer (``needs_explanation`` False), which needs no explainer."""
    if not needs_explanation:
        return {r.latent: Explanation(latent=r.latent, text="") for r in records}
    given = given or {}
    rest = [r for r in records if r.latent not in given]
    made = explain_records(cfg, rest, tokenizer, resources, store) if rest else {}
    explanations = {
        latent: e.model_copy(update={"source": "explainer"}) for latent, e in made.items()
    }
    explanations.update({r.latent: given[r.latent] for r in records if r.latent in given})
    return explanations


def control_sources(
    explanations: dict[int, Explanation], enabled: bool, seed: int
) -> dict[int, int] | None:
    """Which latent's explanation each latent is controlled with (never one whose text
    equals its own); None when the control is off."""
    if not enabled:
        return None
    texts = {latent: e.text for latent, e in explanations.items() if e.text is not None}
    return shuffled_explanation_sources(list(texts), seed, texts)


def score_latents(
    spec: ScoredEval,
    scorer: LatentScorer,
    latents: Sequence[int],
    records: dict[int, LatentRecord],
    explanations: dict[int, Explanation],
    controls: dict[int, int] | None,
    store: LatentStore[Any],
    group: int,
    desc: str,
) -> list[LatentScore[Any, Any]]:
    """Score the latents not in ``store`` yet (each with its own explanation and, when
    ``controls`` names one, another latent's), storing each group as it finishes; returns
    every latent's result in order. A latent whose explanation or scoring failed is
    returned with its failure but not stored, so the next run retries exactly it."""

    def score_group(group_latents: list[int]) -> list[LatentScore[Any, Any]]:
        shells = [
            _shell(
                spec.result_cls, records[latent], explanations.get(latent), controls, explanations
            )
            for latent in group_latents
        ]
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
    usable = [r for r in records.values() if r.status == RecordStatus.ok and r.latent not in store]
    probe = [ScoreItem(r, PLACEHOLDER_EXPLANATION) for r in usable[:1]]
    uses_llm = bool(probe) and bool(scorer.planned_requests(probe[0]))
    return run_latents(
        latents, store, score_group, group=group, desc=desc, overlap=2 if uses_llm else 1
    )


def run_scored(
    ctx: EvalContext[Any], spec: ScoredEval, resources: EvalResources | None = None
) -> ScoredRun:
    """Explain and score the latents of ``ctx``'s SAE (and, when asked for, of a random SAE
    and under other seeds); results are stored as they finish."""
    from sae_interp.evals.common.arms import random_sae_arm, reseed_arms

    cfg: ExplainedEvalConfig = ctx.config
    resources = resources or ctx.resources
    assert isinstance(resources, EvalResources)
    usage_before = resources.usage()
    fresh_explanations = refresh_explanations(cfg) and spec.needs_explanation
    setup = prepare(ctx, spec.result_cls, fresh=cfg.force, fresh_explanations=fresh_explanations)
    tokenizer = ctx.model.tokenizer
    explanations = explanations_of(
        spec.needs_explanation, cfg, setup.usable, tokenizer, resources, setup.store, setup.given
    )
    controls = control_sources(
        explanations, cfg.random_control and spec.needs_explanation, cfg.seed
    )
    n_pending = sum(latent not in setup.results for latent in setup.latents)
    results = score_latents(
        spec,
        spec.make_scorer(ctx, resources),
        setup.latents,
        setup.records,
        explanations,
        controls,
        setup.results,
        max(1, cfg.llm.effective_concurrency()),
        spec.eval_type_id,
    )
    random_ctx, random_results = (
        random_sae_arm(ctx, spec, resources, setup) if cfg.random_sae_control else (None, [])
    )
    reseeds = reseed_arms(ctx, spec, resources, setup, explanations)
    return ScoredRun(
        config=cfg,
        results=results,
        llm_usage=with_per_latent(usage_delta(usage_before, resources.usage()), n_pending),
        random_sae_results=random_results,
        random_sae_ctx=random_ctx,
        reseed_results=reseeds,
    )
