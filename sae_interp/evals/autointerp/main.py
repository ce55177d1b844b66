"""The autointerp detection eval: explain -> judge held-out windows -> score, with the
random-explanation control in the same run. Per-latent results are appended to a JSONL file
as each latent finishes; a killed run resumes where it stopped, and repeated LLM calls are
answered from the response cache."""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import Any

from tqdm.auto import tqdm

from sae_interp.activations.records import LatentRecord, RecordStatus
from sae_interp.activations.sampling import sample_records
from sae_interp.activations.store import latent_cache_for, sae_fingerprint, select_latents
from sae_interp.core.latent_store import LatentStore
from sae_interp.core.paths import stable_hash
from sae_interp.core.runner import (
    EVALS,
    EvalContext,
    EvalDefinition,
    EvalResult,
    LLMPlan,
    run_per_sae,
)
from sae_interp.evals.autointerp.eval_config import AutoInterpEvalConfig
from sae_interp.evals.autointerp.eval_output import (
    AutoInterpEvalOutput,
    AutoInterpMetrics,
    LatentDetectionResult,
    PooledDetection,
)
from sae_interp.explainers.base import Explanation, ExplanationStore
from sae_interp.explainers.one_shot import build_request as build_explain_request
from sae_interp.explainers.pipeline import explanation_store_path, explanations_for
from sae_interp.llm.pricing import cost_usd, price_of
from sae_interp.llm.service import LLMService, UsageReport, estimate_usage
from sae_interp.llm.settings import open_service
from sae_interp.llm.types import Usage
from sae_interp.scorers.controls import shuffled_explanation_sources
from sae_interp.scorers.detection import (
    DetectionMetrics,
    DetectionPlan,
    detection_metrics,
    plan_latent,
    run_plans,
)

logger = logging.getLogger(__name__)

RUN_FIELDS_EXCLUDED = {"output_dir", "force", "device", "batch_size", "saes", "llm"}


def _nanmean(values: list[float | None]) -> float:
    kept = [v for v in values if v is not None and not math.isnan(v)]
    return sum(kept) / len(kept) if kept else math.nan


def pool(items: list[DetectionMetrics]) -> PooledDetection:
    aurocs = [m.auroc for m in items if m.auroc is not None]
    return PooledDetection(
        balanced_accuracy=_nanmean([m.balanced_accuracy for m in items]),
        f1=_nanmean([m.f1 for m in items]),
        precision=_nanmean([m.precision for m in items]),
        recall=_nanmean([m.recall for m in items]),
        auroc=_nanmean(list(aurocs)) if aurocs else None,
        failed_batch_fraction=_nanmean([m.failed_batch_fraction for m in items]),
        n_latents=len(items),
    )


def _usage_delta(before: UsageReport, after: UsageReport) -> dict[str, Any]:
    b, a = before.as_dict(), after.as_dict()
    return {
        k: (a[k] - b[k] if isinstance(a[k], (int, float)) and not isinstance(a[k], bool) else a[k])
        for k in a
    }


@dataclass
class Setup:
    """Everything a run (or its plan) needs before any LLM call."""

    latents: list[int]
    records: dict[int, LatentRecord]
    usable: list[LatentRecord]
    store: ExplanationStore
    results: LatentStore[LatentDetectionResult]


def _setup(ctx: EvalContext[AutoInterpEvalConfig], llm_identity: str, fresh: bool) -> Setup:
    cfg = ctx.config
    cache = latent_cache_for(
        ctx.model, ctx.sae, cfg.corpus, cfg.n_tokens, cfg.ctx_len, cfg.batch_size
    )
    latents = select_latents(cache, cfg.latents, cfg.n_latents, cfg.seed)
    records = {r.latent: r for r in sample_records(cache, latents, cfg.sampling, cfg.seed)}
    store = ExplanationStore(
        explanation_store_path(
            cfg.output_dir,
            cfg.model,
            ctx.sae_spec,
            sae_fingerprint(ctx.sae),
            cfg.sampling,
            cfg.explainer,
            llm_identity,
            cfg.seed,
        )
    )
    run_key = stable_hash(
        cfg.model_dump(mode="json", exclude=RUN_FIELDS_EXCLUDED) | {"llm": llm_identity}
    )[:12]
    results_path = ctx.work_dir / f"latents_{run_key}.jsonl"
    if fresh and results_path.exists():
        results_path.unlink()
    usable = [r for r in records.values() if r.status == RecordStatus.ok]
    return Setup(latents, records, usable, store, LatentStore(results_path, LatentDetectionResult))


def run_autointerp(ctx: EvalContext[AutoInterpEvalConfig]) -> EvalResult:
    cfg, service = ctx.config, ctx.resources
    assert isinstance(service, LLMService)
    tokenizer = ctx.model.tokenizer
    usage_before = dataclasses.replace(service.report)
    setup = _setup(ctx, cfg.llm.identity(), fresh=cfg.force)
    latents, records, results = setup.latents, setup.records, setup.results
    explanations = explanations_for(setup.usable, tokenizer, service, cfg.explainer, setup.store)
    explained = [latent for latent, e in explanations.items() if e.ok]
    controls = shuffled_explanation_sources(explained, cfg.seed) if cfg.random_control else {}
    pending = [latent for latent in latents if latent not in results]
    if len(pending) < len(latents):
        logger.info(
            "resuming: %d of %d latents already scored", len(latents) - len(pending), len(latents)
        )
    group = max(1, service.concurrency)  # latents whose prompts go out together
    for i in tqdm(range(0, len(pending), group), desc="detection", leave=False):
        chunk = [
            _prepare(
                latent,
                records[latent],
                explanations.get(latent),
                controls,
                explanations,
                cfg,
                tokenizer,
            )
            for latent in pending[i : i + group]
        ]
        plans = [p for _, real, control in chunk for p in (real, control) if p is not None]
        outcomes = dict(zip(map(id, plans), run_plans(plans, service), strict=True))
        for result, real, control in chunk:
            if real is not None:
                result.outcome = outcomes[id(real)]
                result.metrics = detection_metrics(result.outcome)
            if control is not None:
                result.control_outcome = outcomes[id(control)]
                result.control_metrics = detection_metrics(result.control_outcome)
            results.put(result)

    final = [results.get(latent) for latent in latents]
    scored = [r for r in final if r is not None and r.metrics is not None]
    controlled = [r.control_metrics for r in scored if r.control_metrics is not None]
    metrics = AutoInterpMetrics(
        detection=pool([r.metrics for r in scored if r.metrics is not None]),
        random_explanation_control=pool(controlled) if controlled else None,
        n_requested=len(latents),
        n_too_rare=sum(r is not None and r.status == RecordStatus.too_rare.value for r in final),
        n_dead=sum(r is not None and r.status == RecordStatus.dead.value for r in final),
        n_failed_explanations=sum(
            r is not None and r.status == "explanation_failed" for r in final
        ),
        llm_usage=_usage_delta(usage_before, service.report),
    )
    return EvalResult(metrics=metrics, details=[r for r in final if r is not None])


def _prepare(
    latent: int,
    record: LatentRecord,
    explanation: Explanation | None,
    controls: dict[int, int],
    explanations: dict[int, Explanation],
    cfg: AutoInterpEvalConfig,
    tokenizer: Any,
) -> tuple[LatentDetectionResult, DetectionPlan | None, DetectionPlan | None]:
    """The result shell of one latent and the plans to fill it (None where nothing is scored)."""
    result = LatentDetectionResult(latent=latent, status=record.status.value)
    if record.status != RecordStatus.ok or explanation is None:
        return result, None, None
    if explanation.text is None:
        result.status, result.explanation_error = "explanation_failed", explanation.error
        return result, None, None
    result.explanation = explanation.text
    real = plan_latent(record, explanation.text, tokenizer, cfg.detection, cfg.seed)
    control = None
    if latent in controls:
        result.control_explanation_of = controls[latent]
        other = explanations[controls[latent]].text or ""
        control = plan_latent(record, other, tokenizer, cfg.detection, cfg.seed)
    return result, real, control


PLACEHOLDER_EXPLANATION = " ".join(["word"] * 12)  # typical explanation length, for estimates


def plan_autointerp(ctx: EvalContext[AutoInterpEvalConfig]) -> LLMPlan:
    cfg, tokenizer = ctx.config, ctx.model.tokenizer
    setup = _setup(ctx, cfg.llm.identity(), fresh=False)
    to_explain = [r for r in setup.usable if r.latent not in setup.store]
    requests = [build_explain_request(r, tokenizer, cfg.explainer) for r in to_explain]
    for record in setup.usable:
        if record.latent in setup.results:
            continue
        copies = 2 if cfg.random_control and len(setup.usable) > 1 else 1
        requests += (
            plan_latent(
                record, PLACEHOLDER_EXPLANATION, tokenizer, cfg.detection, cfg.seed
            ).requests
            * copies
        )
    usage = [estimate_usage(r) for r in requests]
    total = Usage(
        prompt_tokens=sum(u.prompt_tokens for u in usage),
        completion_tokens=sum(u.completion_tokens for u in usage),
    )
    priced = price_of(cfg.llm.model_name()) is not None
    return LLMPlan(
        eval_type_id="autointerp",
        sae_spec=ctx.sae_spec,
        llm=cfg.llm.identity(),
        calls=len(requests),
        prompt_tokens=total.prompt_tokens,
        max_completion_tokens=total.completion_tokens,
        estimated_cost_usd=cost_usd(cfg.llm.model_name(), total) if priced else None,
        notes=f"{len(setup.usable) - len(to_explain)} stored explanations and "
        f"{len(setup.results)} finished latents reused; cached answers not counted",
    )


DEFINITION = EVALS.register(
    "autointerp",
    EvalDefinition(
        eval_type_id="autointerp",
        config_cls=AutoInterpEvalConfig,
        output_cls=AutoInterpEvalOutput,
        run=run_autointerp,
        resources=lambda cfg: open_service(cfg.llm, cfg.seed),
        plan=plan_autointerp,
        table_columns=(
            "detection.balanced_accuracy",
            "detection.auroc",
            "random_explanation_control.balanced_accuracy",
            "random_explanation_control.auroc",
            "detection.n_latents",
            "n_too_rare",
            "n_dead",
            "n_failed_explanations",
            "llm_usage.cost_usd",
        ),
    ),
)


def run_eval(
    config: AutoInterpEvalConfig | None = None, **kwargs: Any
) -> list[AutoInterpEvalOutput]:
    """Run autointerp detection on every SAE of ``config`` (``kwargs``: ``model=``, ``saes=``)."""
    return run_per_sae(DEFINITION, config or AutoInterpEvalConfig(), **kwargs)  # type: ignore[return-value]
