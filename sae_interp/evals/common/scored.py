"""The one loop of the explanation-based evals.

For one SAE: latent cache (shared) -> latents -> records (train / test / negatives) ->
explanations (stored, reused across evals) -> every latent scored with its own explanation
and, in the same call, with another latent's (random-explanation control) -> per-latent
results appended to a JSONL file as each group of latents finishes (a killed run resumes
where it stopped) -> pooled metrics. An eval contributes only its scorer and its summary.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from tqdm.auto import tqdm

from sae_interp.activations.cache import LatentCache
from sae_interp.activations.records import LatentRecord, RecordStatus
from sae_interp.activations.sampling import SamplingConfig, sample_records
from sae_interp.activations.store import latent_cache_for, sae_fingerprint, select_latents
from sae_interp.core.errors import ExplanationsFileError
from sae_interp.core.latent_store import LatentStore
from sae_interp.core.output import BaseEvalOutput
from sae_interp.core.paths import stable_hash
from sae_interp.core.registry import Registry
from sae_interp.core.runner import EVALS, EvalContext, EvalDefinition, EvalResult, LLMPlan
from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.evals.common.resources import EvalResources, open_resources
from sae_interp.explainers.base import Explanation, ExplanationStore
from sae_interp.explainers.one_shot import build_request as build_explain_request
from sae_interp.explainers.pipeline import explanation_store_path, explanations_for
from sae_interp.interop.explanations import GivenExplanations, read_explanations
from sae_interp.llm.pricing import cost_usd, price_of
from sae_interp.llm.service import UsageReport, estimate_usage
from sae_interp.llm.settings import LLMSettings
from sae_interp.llm.types import LLMRequest, Usage
from sae_interp.saes.base import BaseSAE
from sae_interp.scorers.base import LatentScorer, ScoreItem
from sae_interp.scorers.controls import shuffled_explanation_sources

logger = logging.getLogger(__name__)

OutcomeT = TypeVar("OutcomeT")
MetricsT = TypeVar("MetricsT")
PooledT = TypeVar("PooledT", bound=BaseModel)

PLACEHOLDER_EXPLANATION = " ".join(["word"] * 12)  # typical explanation length, for estimates


class LatentScore(BaseModel, Generic[OutcomeT, MetricsT]):
    """One latent's result in any explanation-based eval (auditable: the outcome keeps what
    was shown and answered)."""

    latent: int
    status: str = Field(description="ok | too_rare | dead | explanation_failed")
    explanation: str | None = None
    explanation_source: str | None = Field(
        default=None, description="'explainer', or FORMAT:FILE:LINE of a given explanation."
    )
    explanation_error: str | None = None
    metrics: MetricsT | None = None
    outcome: OutcomeT | None = None
    control_explanation_of: int | None = Field(
        default=None, description="Latent whose explanation was used as the control."
    )
    control_metrics: MetricsT | None = None
    control_outcome: OutcomeT | None = None


class ExplainedCounts(BaseModel):
    """Counts every explanation-based eval reports next to its pooled scores."""

    n_requested: int
    n_scored: int
    n_too_rare: int
    n_dead: int
    n_failed_explanations: int
    n_out_of_range: int = Field(default=0, description="Requested latent ids the SAE lacks.")
    llm_usage: dict[str, float | int | bool] = Field(default_factory=dict)


@dataclass
class ScoredRun:
    """What the loop hands to an eval's summary."""

    config: Any
    results: list[LatentScore[Any, Any]]
    llm_usage: dict[str, Any]

    @property
    def metrics(self) -> list[Any]:
        return [r.metrics for r in self.results if r.metrics is not None]

    @property
    def control_metrics(self) -> list[Any]:
        return [r.control_metrics for r in self.results if r.control_metrics is not None]

    def counts(self) -> dict[str, Any]:
        status = [r.status for r in self.results]
        return {
            "n_requested": len(self.results),
            "n_scored": len(self.metrics),
            "n_too_rare": status.count(RecordStatus.too_rare.value),
            "n_dead": status.count(RecordStatus.dead.value),
            "n_failed_explanations": status.count("explanation_failed"),
            "n_out_of_range": status.count(RecordStatus.out_of_range.value),
            "llm_usage": self.llm_usage,
        }


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


SCORED_EVALS: Registry[ScoredEval] = Registry("explanation-based eval")


def _nanmean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None and not math.isnan(v)]
    return sum(kept) / len(kept) if kept else None


def pool_means(pooled_cls: type[PooledT], items: Sequence[BaseModel]) -> PooledT | None:
    """Each numeric field of ``pooled_cls`` as the mean over ``items`` of the same-named
    attribute (nan/None skipped; nan when no latent has a value, None for optional fields),
    plus ``n_latents``. None when there are no items."""
    if not items:
        return None
    values: dict[str, Any] = {"n_latents": len(items)}
    for name, field in pooled_cls.model_fields.items():
        if name == "n_latents":
            continue
        mean = _nanmean([getattr(m, name, None) for m in items])
        optional = not field.is_required() and field.default is None
        values[name] = mean if mean is not None or optional else math.nan
    return pooled_cls(**values)


@dataclass
class Setup:
    latents: list[int]
    records: dict[int, LatentRecord]
    usable: list[LatentRecord]
    store: ExplanationStore
    results: LatentStore[Any]
    given: dict[int, Explanation]  # from --explanations


def latent_records(
    ctx: EvalContext[Any], sampling: SamplingConfig, sae: BaseSAE | None = None
) -> tuple[LatentCache, list[int], dict[int, LatentRecord]]:
    """The shared latent cache of (model, SAE, corpus), the latents to look at and their
    records. ``sae`` overrides the context's SAE (e.g. a random-SAE control)."""
    cfg = ctx.config
    sae = sae or ctx.sae
    cache = latent_cache_for(ctx.model, sae, cfg.corpus, cfg.n_tokens, cfg.ctx_len, cfg.batch_size)
    explicit = cfg.latents or (given_explanations(cfg).latents() if cfg.explanations else None)
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
    records = {r.latent: r for r in sample_records(cache, inside, sampling, cfg.seed)}
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


def prepare(ctx: EvalContext[Any], result_cls: type[BaseModel], fresh: bool) -> Setup:
    cfg: ExplainedEvalConfig = ctx.config
    _, latents, records = latent_records(ctx, cfg.sampling)
    store = ExplanationStore(
        explanation_store_path(
            cfg.output_dir,
            cfg.model,
            ctx.sae_spec,
            sae_fingerprint(ctx.sae),
            cfg.sampling,
            cfg.explainer,
            cfg.llm.identity(),
            cfg.seed,
        )
    )
    usable = [r for r in records.values() if r.status == RecordStatus.ok]
    given = given_explanations(cfg).as_explanations() if cfg.explanations else {}
    results = LatentStore(results_path(ctx, fresh), result_cls)
    return Setup(latents, records, usable, store, results, given)


def usage_delta(before: UsageReport, after: UsageReport) -> dict[str, Any]:
    b, a = before.as_dict(), after.as_dict()
    return {
        k: (a[k] - b[k] if isinstance(a[k], (int, float)) and not isinstance(a[k], bool) else a[k])
        for k in a
    }


def _shell(
    result_cls: type[LatentScore[Any, Any]],
    record: LatentRecord,
    explanation: Explanation | None,
    controls: dict[int, int],
    explanations: dict[int, Explanation],
) -> tuple[LatentScore[Any, Any], list[tuple[ScoreItem, bool]]]:
    """The result of one latent before scoring, and the (item, is_control) pairs to score."""
    result = result_cls(latent=record.latent, status=record.status.value)
    if record.status != RecordStatus.ok or explanation is None:
        return result, []
    if explanation.text is None:
        result.status, result.explanation_error = "explanation_failed", explanation.error
        return result, []
    result.explanation = explanation.text
    result.explanation_source = explanation.source
    items = [(ScoreItem(record, explanation.text), False)]
    if record.latent in controls:
        source = controls[record.latent]
        result.control_explanation_of = source
        items.append((ScoreItem(record, explanations[source].text or ""), True))
    return result, items


def run_scored(
    ctx: EvalContext[Any], spec: ScoredEval, resources: EvalResources | None = None
) -> ScoredRun:
    """Explain and score the latents of ``ctx``'s SAE; results are stored as they finish."""
    cfg: ExplainedEvalConfig = ctx.config
    resources = resources or ctx.resources
    assert isinstance(resources, EvalResources)
    usage_before = resources.usage()
    setup = prepare(ctx, spec.result_cls, fresh=cfg.force)
    tokenizer = ctx.model.tokenizer
    missing = [r for r in setup.usable if r.latent not in setup.given.keys() | setup.store.done()]
    service = resources.service if missing else None
    explanations = explanations_for(
        setup.usable, tokenizer, service, cfg.explainer, setup.store, setup.given
    )
    explained = [latent for latent, e in explanations.items() if e.ok]
    controls = shuffled_explanation_sources(explained, cfg.seed) if cfg.random_control else {}
    pending = [latent for latent in setup.latents if latent not in setup.results]
    if len(pending) < len(setup.latents):
        logger.info(
            "resuming: %d of %d latents already scored",
            len(setup.latents) - len(pending),
            len(setup.latents),
        )
    scorer = spec.make_scorer(ctx, resources)
    group = max(1, cfg.llm.concurrency)  # latents scored together
    for i in tqdm(range(0, len(pending), group), desc=spec.eval_type_id, leave=False):
        shells = [
            _shell(
                spec.result_cls,
                setup.records[latent],
                explanations.get(latent),
                controls,
                explanations,
            )
            for latent in pending[i : i + group]
        ]
        pairs = [(result, item, control) for result, items in shells for item, control in items]
        outcomes = scorer.score([item for _, item, _ in pairs]) if pairs else []
        for (result, _, control), outcome in zip(pairs, outcomes, strict=True):
            metrics = scorer.metrics(outcome)
            if control:
                result.control_outcome, result.control_metrics = outcome, metrics
            else:
                result.outcome, result.metrics = outcome, metrics
        for result, _ in shells:
            setup.results.put(result)
    final = [setup.results.get(latent) for latent in setup.latents]
    return ScoredRun(
        config=cfg,
        results=[r for r in final if r is not None],
        llm_usage=usage_delta(usage_before, resources.usage()),
    )


def plan_scored(ctx: EvalContext[Any], spec: ScoredEval, explain: bool = True) -> LLMPlan:
    """The LLM calls a run would make (explanations not stored yet, unless ``explain`` is
    False, + scoring of latents not finished yet), estimated without calling anything."""
    cfg: ExplainedEvalConfig = ctx.config
    tokenizer = ctx.model.tokenizer
    setup = prepare(ctx, spec.result_cls, fresh=False)
    known = setup.given.keys() | setup.store.done()
    to_explain = [r for r in setup.usable if explain and r.latent not in known]
    requests = [build_explain_request(r, tokenizer, cfg.explainer) for r in to_explain]
    scorer = spec.make_scorer(ctx, None)
    copies = 2 if cfg.random_control and len(setup.usable) > 1 else 1
    for record in setup.usable:
        if record.latent not in setup.results:
            requests += scorer.planned_requests(ScoreItem(record, PLACEHOLDER_EXPLANATION)) * copies
    notes = (
        f"{len(setup.usable) - len(to_explain)} stored explanations and "
        f"{len(setup.results)} finished latents reused; cached answers not counted"
    )
    return plan_from_requests(spec.eval_type_id, ctx.sae_spec, cfg.llm, requests, notes)


def plan_from_requests(
    eval_type_id: str, sae_spec: str, llm: LLMSettings, requests: Sequence[LLMRequest], notes: str
) -> LLMPlan:
    """Calls, estimated tokens and (for priced models) cost of ``requests``."""
    usage = [estimate_usage(r) for r in requests]
    total = Usage(
        prompt_tokens=sum(u.prompt_tokens for u in usage),
        completion_tokens=sum(u.completion_tokens for u in usage),
    )
    priced = price_of(llm.model_name()) is not None
    return LLMPlan(
        eval_type_id=eval_type_id,
        sae_spec=sae_spec,
        llm=llm.identity(),
        calls=len(requests),
        prompt_tokens=total.prompt_tokens,
        max_completion_tokens=total.completion_tokens,
        estimated_cost_usd=cost_usd(llm.model_name(), total) if priced else None,
        notes=notes,
    )


def definition_for(spec: ScoredEval) -> EvalDefinition[Any]:
    """Register ``spec`` and the runner's :class:`EvalDefinition` built from it."""
    SCORED_EVALS.register(spec.eval_type_id, spec)

    def run(ctx: EvalContext[Any]) -> EvalResult:
        scored = run_scored(ctx, spec)
        return EvalResult(metrics=spec.summarise(scored), details=scored.results)

    return EVALS.register(
        spec.eval_type_id,
        EvalDefinition(
            eval_type_id=spec.eval_type_id,
            config_cls=spec.config_cls,
            output_cls=spec.output_cls,
            run=run,
            resources=lambda cfg: open_resources(cfg.llm, cfg.seed),
            plan=lambda ctx: plan_scored(ctx, spec),
            table_columns=spec.table_columns,
        ),
    )
