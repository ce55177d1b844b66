"""Dry-run plans of the explanation-based evals: the LLM calls a run would make, with
estimated tokens and cost, computed from the same records and prompts as the run, without
calling anything."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sae_interp.activations.cache import LatentCache
from sae_interp.evals.common.arms import matched_controls
from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.evals.common.records import PLACEHOLDER_EXPLANATION, prepare
from sae_interp.evals.common.scored_models import ScoredEval
from sae_interp.explainers.registry import planned_requests
from sae_interp.framework.runner import EvalContext, LLMPlan
from sae_interp.llm.pricing import cost_usd, price_of
from sae_interp.llm.service import estimate_usage
from sae_interp.llm.settings import LLMSettings
from sae_interp.llm.types import LLMRequest, Usage
from sae_interp.scorers.base import ScoreItem


def plan_scored(ctx: EvalContext[Any], spec: ScoredEval, explain: bool = True) -> LLMPlan:
    """The LLM calls a run would make (explanations not stored yet, unless ``explain`` is
    False, + scoring of latents not finished yet), estimated without calling anything."""
    cfg: ExplainedEvalConfig = ctx.config
    tokenizer = ctx.tokenizer
    setup = prepare(ctx, spec.result_cls, fresh=False)
    explain = explain and spec.needs_explanation
    known = setup.given.keys() | setup.store.done()
    to_explain = [r for r in setup.usable if explain and r.latent not in known]
    requests = [q for r in to_explain for q in planned_requests(cfg, r, tokenizer)]
    scorer = spec.make_scorer(ctx, None)
    control = cfg.shuffled_control and spec.needs_explanation
    copies = 2 if control and len(setup.usable) > 1 else 1
    per_latent = {
        r.latent: scorer.planned_requests(ScoreItem(r, PLACEHOLDER_EXPLANATION))
        for r in setup.usable
    }
    for latent, latent_requests in per_latent.items():
        if latent not in setup.results:
            requests += latent_requests * copies
    scoring = [request for latent_requests in per_latent.values() for request in latent_requests]
    extra_seeds = len({s for s in cfg.seeds or [] if s != cfg.seed})
    requests += scoring * copies * extra_seeds
    notes = (
        f"{len(setup.usable) - len(to_explain)} stored explanations and "
        f"{len(setup.results)} finished latents reused; cached answers not counted; "
        + collection_note(setup.cache, cfg.n_tokens)
    )
    if extra_seeds:
        notes += f"; {extra_seeds} extra seeds score every latent again"
    for matched in matched_controls(cfg):
        # its latents are matched one to one: as many explanations and scorings
        if spec.needs_explanation:
            requests += [q for r in setup.usable for q in planned_requests(cfg, r, tokenizer)]
        requests += scoring
        notes += f"; {matched.label} control estimated as one explanation + scoring per latent"
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
    if llm.batched():
        notes += "; priced at batch prices (--llm-batch)"
    return LLMPlan(
        eval_type_id=eval_type_id,
        sae_spec=sae_spec,
        llm=llm.identity(),
        calls=len(requests),
        prompt_tokens=total.prompt_tokens,
        max_completion_tokens=total.completion_tokens,
        estimated_cost_usd=cost_usd(llm.model_name(), total, batch=llm.batched())
        if priced
        else None,
        notes=notes,
    )


def collection_note(cache: LatentCache, n_tokens: int) -> str:
    """What the plan cost in model work: a dry run needs the latent cache to choose the
    latents and size their prompts (it collects once; the run then reuses it)."""
    if cache.collected_now:
        return (
            f"activations of {n_tokens} tokens were collected to choose the latents and size "
            f"their prompts; the run reuses them from {cache.directory}"
        )
    return "latents chosen from the stored latent cache (no model pass)"
