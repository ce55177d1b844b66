"""Run several explanation-based evals on each SAE, sharing what can be shared: the model
(loaded once), the latent cache and records (same corpus/sampling settings), the explanations
(one store) and the LLM service and local models (one set of resources). Each eval's own
output is written as if it had run alone; the combined output holds every eval's pooled
metrics and, per latent, one row with all scores."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from sae_interp.distributed.shards import Stage
from sae_interp.evals import explanation_evals, get_eval
from sae_interp.evals.all.eval_config import AllEvalConfig, scored_eval, whole_eval
from sae_interp.evals.all.eval_output import AllEvalOutput, AllLatentResult, AllMetrics
from sae_interp.evals.common import (
    ScoredRun,
    open_resources,
    plan_scored,
    run_scored,
    scored_result,
)
from sae_interp.evals.common.sharded import run_shard, stage_uses_model
from sae_interp.evals.common.usage import add_usage, shards_usage, usage_delta
from sae_interp.framework.failures import merge_counts
from sae_interp.framework.output import BaseEvalOutput
from sae_interp.framework.runner import (
    EVALS,
    EvalContext,
    EvalDefinition,
    EvalResult,
    ExtraResult,
    LLMPlan,
    run_per_sae,
    work_dir,
)
from sae_interp.framework.table import arms_table

logger = logging.getLogger(__name__)


def _sub_context(ctx: EvalContext[AllEvalConfig], name: str) -> EvalContext[Any]:
    """The context eval ``name`` runs in on this SAE: its own config and work directory, the
    shared model, SAE and (where it uses them) resources."""
    whole = whole_eval(name)
    config = ctx.config.config_for(name) if whole is None else ctx.config.whole_config(name)
    uses_resources = whole is None or whole.resources is not None
    return EvalContext(
        config,
        ctx.lazy_model,
        ctx.sae,
        ctx.sae_spec,
        ctx.device,
        work_dir(config, name, ctx.sae_spec),
        ctx.resources if uses_resources else None,
    )


def _run_whole(ctx: EvalContext[AllEvalConfig], name: str, reuse: bool) -> ExtraResult:
    """One eval that ``evals.all`` runs whole on this SAE, its own output to be written as
    if it ran alone."""
    definition, sub = whole_eval(name), _sub_context(ctx, name)
    if reuse and "reuse_explanations" in type(sub.config).model_fields:
        update = {"reuse_explanations": True}
        sub = dataclasses.replace(sub, config=sub.config.model_copy(update=update))
    logger.info("all: %s on %s", name, ctx.sae_spec)
    return ExtraResult(definition, sub, definition.run(sub))


def _merge(runs: dict[str, ScoredRun]) -> list[AllLatentResult]:
    rows: dict[int, AllLatentResult] = {}
    for name, run in runs.items():
        for r in run.results:
            row = rows.setdefault(
                r.latent,
                AllLatentResult(
                    latent=r.latent,
                    status=r.status,
                    explanation=r.explanation,
                    control_explanation_of=r.control_explanation_of,
                ),
            )
            row.explanation = row.explanation or r.explanation  # none from intruder
            if r.metrics is not None:
                row.metrics[name] = r.metrics.model_dump()
            if r.control_metrics is not None:
                row.control_metrics[name] = r.control_metrics.model_dump()
    return [rows[k] for k in sorted(rows)]


def _scored_context(ctx: EvalContext[AllEvalConfig], name: str, explained: bool) -> Any:
    """The context explanation-based eval ``name`` runs in; once an earlier eval has
    explained (``explained``), it reuses those explanations even with --force (the first
    eval asked again, the others reuse that)."""
    sub = _sub_context(ctx, name)
    if explained:
        reuse = sub.config.model_copy(update={"reuse_explanations": True})
        sub = dataclasses.replace(sub, config=reuse)
    return sub


def shard_all(ctx: EvalContext[AllEvalConfig], stage: Stage) -> None:
    """One stage of a latent-sharded run: that stage of every explanation-based eval on
    this shard (the whole evals run at the merge)."""
    explained = False
    for name in ctx.config.evals:
        if whole_eval(name) is not None:
            continue
        spec = scored_eval(name)
        run_shard(_scored_context(ctx, name, explained), spec, stage, ctx.resources)
        explained = explained or spec.needs_explanation


def all_stage_uses_model(config: AllEvalConfig, stage: Stage) -> bool:
    """A stage of a sharded ``evals.all`` computes with the model when that stage of one of
    its explanation-based evals does (its whole evals run at the merge)."""
    if stage is Stage.merge:
        return True
    return any(
        stage_uses_model(scored_eval(name), config.config_for(name), stage)
        for name in config.evals
        if whole_eval(name) is None
    )


def run_all(ctx: EvalContext[AllEvalConfig]) -> EvalResult:
    runs: dict[str, ScoredRun] = {}
    summaries: dict[str, Any] = {}
    usage_before = ctx.resources.usage()
    shards: dict[str, Any] = {}  # in a sharded run's merge: what the shards used
    explained = False
    whole: dict[str, EvalResult] = {}
    sub_results: list[ExtraResult] = []  # each eval's own output, written by the runner
    for name in ctx.config.evals:
        if whole_eval(name) is not None:
            sub_results.append(_run_whole(ctx, name, reuse=explained))
            whole[name] = sub_results[-1].result
            summaries[name] = whole[name].metrics
            continue
        spec = scored_eval(name)
        sub = _scored_context(ctx, name, explained)
        shards = add_usage(shards, shards_usage(sub)[0])
        explained = explained or spec.needs_explanation
        logger.info("all: %s on %s", name, ctx.sae_spec)
        runs[name] = run_scored(sub, spec, ctx.resources)
        result = scored_result(spec, runs[name])
        summaries[name] = result.metrics
        sub_results.append(ExtraResult(get_eval(name), sub, result))
    metrics = AllMetrics(
        evals=list(ctx.config.evals),
        n_explained=max(
            (sum(r.explanation is not None for r in run.results) for run in runs.values()),
            default=0,
        ),
        llm_usage=add_usage(usage_delta(usage_before, ctx.resources.usage()), shards),
        **{name: s.model_dump() for name, s in summaries.items()},
    )
    return EvalResult(
        metrics=metrics,
        details=_merge(runs),
        failures=merge_counts(
            [*(run.failures() for run in runs.values()), *(r.failures for r in whole.values())]
        ),
        n_ok=sum(len(run.metrics) for run in runs.values())
        + sum(r.n_ok if r.n_ok is not None else 1 for r in whole.values()),
        extra=sub_results,
    )


def plan_all(ctx: EvalContext[AllEvalConfig]) -> LLMPlan:
    """One plan for everything; the explanations the explanation evals share are counted
    once, with the first of them in the list (it pays for them, every later one reuses them),
    wherever the evals that make no such explanations stand."""
    plans = []
    explained = False
    for name in ctx.config.evals:
        definition = whole_eval(name)
        if definition is None:
            spec = scored_eval(name)
            plans.append(plan_scored(_sub_context(ctx, name), spec, explain=not explained))
            explained = explained or spec.needs_explanation
        elif definition.plan is not None:
            plans.append(definition.plan(_sub_context(ctx, name)))
    if not plans:  # only evals without LLM calls
        return LLMPlan(
            eval_type_id="all",
            sae_spec=ctx.sae_spec,
            llm="none",
            calls=0,
            prompt_tokens=0,
            max_completion_tokens=0,
            estimated_cost_usd=0.0,
            notes="no LLM calls",
        )
    costs = [p.estimated_cost_usd for p in plans]
    return LLMPlan(
        eval_type_id="all",
        sae_spec=ctx.sae_spec,
        llm=plans[0].llm,
        calls=sum(p.calls for p in plans),
        prompt_tokens=sum(p.prompt_tokens for p in plans),
        max_completion_tokens=sum(p.max_completion_tokens for p in plans),
        estimated_cost_usd=None if None in costs else sum(c or 0.0 for c in costs),
        notes="; ".join(f"{p.eval_type_id}: {p.calls} calls" for p in plans),
    )


CONTROL_ARMS = (  # (column, flat key of the same metric under that arm)
    ("shuffled explanation", "{eval}.shuffled_control.{metric}"),
    ("real − shuffled", "{eval}.real_minus_shuffled_control.{metric}"),
    ("random SAE", "{eval}.random_sae_control.{metric}"),
    ("real − random SAE", "{eval}.real_minus_random_sae.{metric}"),
    ("random model", "{eval}.random_model_control.{metric}"),
    ("real − random model", "{eval}.real_minus_random_model.{metric}"),
)
ARMS = (
    *CONTROL_ARMS,
    ("SD between seeds", "{eval}.reseed.{metric}.between_seed_sd"),
    ("SD between latents", "{eval}.reseed.{metric}.between_latent_sd"),
)


def _scores() -> list[tuple[str, str, str]]:
    """(eval, metric, flat key) of each explanation-based eval's headline score and, for the
    judge evals whose headline is an accuracy, their AUROC."""
    scores = []
    for name in explanation_evals():
        table = scored_eval(name).table_columns
        block, metric = table[0].split(".", 1)
        metrics = [metric] + [m for m in ("auroc",) if m != metric and f"{block}.{m}" in table]
        scores += [(name, m, f"{name}.{block}.{m}") for m in metrics]
    return scores


def _columns() -> tuple[str, ...]:
    """Each score and the same score under each control (the flat metrics a table or a
    notebook reads; a run's table drops the evals and controls it did not run)."""
    columns = [
        key
        for name, metric, real in _scores()
        for key in (real, *(t.format(eval=name, metric=metric) for _, t in CONTROL_ARMS))
    ]
    return (*columns, "n_explained", "llm_usage.calls")


def all_table(outputs: Sequence[BaseEvalOutput[Any, Any, Any]]) -> str:
    """One row per SAE and score: the score, its controls and the differences real -
    control (each with its interval) and, with --seeds, the SDs between seeds and between
    latents; then each SAE's count of explained latents and LLM calls."""
    table = arms_table(outputs, _scores(), ARMS)
    counts = [
        f"{o.provenance.sae_spec}: {o.flat_metrics().get('n_explained')} latents explained, "
        f"{o.flat_metrics().get('llm_usage.calls')} LLM calls"
        for o in outputs
    ]
    return "\n".join([table, *counts])


DEFINITION = EVALS.register(
    "all",
    EvalDefinition(
        eval_type_id="all",
        config_cls=AllEvalConfig,
        output_cls=AllEvalOutput,
        run=run_all,
        resources=lambda cfg: open_resources(cfg.llm, cfg.seed),
        plan=plan_all,
        table_columns=_columns(),
        table=all_table,
        shard=shard_all,
        stage_uses_model=all_stage_uses_model,
    ),
)


def run_eval(config: AllEvalConfig | None = None, **kwargs: Any) -> list[AllEvalOutput]:
    """Run ``config.evals`` on every SAE of ``config`` (``kwargs``: ``model=``, ``saes=``)."""
    return run_per_sae(DEFINITION, config or AllEvalConfig(), **kwargs)
