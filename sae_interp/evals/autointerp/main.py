"""The autointerp detection eval: explain -> judge held-out windows -> score, with the
random-explanation control in the same run. Per-latent results are appended to a JSONL file
as each latent finishes; a killed run resumes where it stopped, and repeated LLM calls are
answered from the response cache."""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Sequence
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
    PooledSaeBench,
)
from sae_interp.explainers.base import Explanation, ExplanationStore
from sae_interp.explainers.one_shot import build_request as build_explain_request
from sae_interp.explainers.pipeline import explanation_store_path, explanations_for
from sae_interp.llm.errors import LLMError
from sae_interp.llm.pricing import cost_usd, price_of
from sae_interp.llm.service import LLMService, UsageReport, estimate_usage
from sae_interp.llm.settings import open_service
from sae_interp.llm.types import LLMRequest, LLMResponse, Usage
from sae_interp.scorers import saebench_detection as saebench
from sae_interp.scorers.controls import shuffled_explanation_sources
from sae_interp.scorers.detection import (
    DetectionMetrics,
    detection_metrics,
    plan_latent,
    read_outcome,
)
from sae_interp.scorers.saebench_detection import SaeBenchOutcome

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
                records[latent], explanations.get(latent), controls, explanations, cfg, tokenizer
            )
            for latent in pending[i : i + group]
        ]
        jobs = [job for _, latent_jobs in chunk for job in latent_jobs]
        answers = service.complete_all([r for job in jobs for r in job.requests])
        start = 0
        for job in jobs:
            job.finish(answers[start : start + len(job.requests)])
            start += len(job.requests)
        for result, _ in chunk:
            results.put(result)

    final = [results.get(latent) for latent in latents]
    scored = [r.metrics for r in final if r is not None and r.metrics is not None]
    controlled = [
        r.control_metrics for r in final if r is not None and r.control_metrics is not None
    ]
    bench = [r.saebench for r in final if r is not None and r.saebench is not None]
    bench_control = [
        r.control_saebench for r in final if r is not None and r.control_saebench is not None
    ]
    metrics = AutoInterpMetrics(
        detection=pool(scored) if scored else None,
        random_explanation_control=pool(controlled) if controlled else None,
        saebench=pool_saebench(bench) if bench else None,
        saebench_random_explanation_control=pool_saebench(bench_control) if bench_control else None,
        n_requested=len(latents),
        n_too_rare=sum(r is not None and r.status == RecordStatus.too_rare.value for r in final),
        n_dead=sum(r is not None and r.status == RecordStatus.dead.value for r in final),
        n_failed_explanations=sum(
            r is not None and r.status == "explanation_failed" for r in final
        ),
        llm_usage=_usage_delta(usage_before, service.report),
    )
    return EvalResult(metrics=metrics, details=[r for r in final if r is not None])


@dataclass
class Job:
    """Requests for one latent and one explanation, and what to do with the answers."""

    requests: list[LLMRequest]
    finish: Callable[[Sequence[LLMResponse | LLMError]], None]


def _jobs_for(
    result: LatentDetectionResult,
    record: LatentRecord,
    explanation: str,
    control: bool,
    cfg: AutoInterpEvalConfig,
    tokenizer: Any,
) -> Job:
    if cfg.detection.mode == "saebench":
        examples, request = saebench.plan(record, explanation, tokenizer, cfg.seed)

        def finish_bench(answers: Sequence[LLMResponse | LLMError]) -> None:
            outcome = saebench.read(record, explanation, examples, answers[0])
            setattr(result, "control_saebench" if control else "saebench", outcome)

        return Job([request], finish_bench)
    plan = plan_latent(record, explanation, tokenizer, cfg.detection, cfg.seed)

    def finish(answers: Sequence[LLMResponse | LLMError]) -> None:
        outcome = read_outcome(plan, answers)
        if control:
            result.control_outcome, result.control_metrics = outcome, detection_metrics(outcome)
        else:
            result.outcome, result.metrics = outcome, detection_metrics(outcome)

    return Job(plan.requests, finish)


def _prepare(
    record: LatentRecord,
    explanation: Explanation | None,
    controls: dict[int, int],
    explanations: dict[int, Explanation],
    cfg: AutoInterpEvalConfig,
    tokenizer: Any,
) -> tuple[LatentDetectionResult, list[Job]]:
    """The result shell of one latent and the jobs that fill it (none when nothing is scored)."""
    result = LatentDetectionResult(latent=record.latent, status=record.status.value)
    if record.status != RecordStatus.ok or explanation is None:
        return result, []
    if explanation.text is None:
        result.status, result.explanation_error = "explanation_failed", explanation.error
        return result, []
    result.explanation = explanation.text
    jobs = [_jobs_for(result, record, explanation.text, False, cfg, tokenizer)]
    if record.latent in controls:
        result.control_explanation_of = controls[record.latent]
        other = explanations[controls[record.latent]].text or ""
        jobs.append(_jobs_for(result, record, other, True, cfg, tokenizer))
    return result, jobs


def pool_saebench(items: list[SaeBenchOutcome]) -> PooledSaeBench:
    return PooledSaeBench(
        accuracy=_nanmean([o.accuracy for o in items]),
        failed_fraction=sum(o.accuracy is None for o in items) / len(items),
        n_latents=len(items),
    )


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
            "saebench.accuracy",
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
