"""``--dry-run`` of the agentic eval: the LLM calls a run would make, without making them.

The agent's calls depend on its answers, so they are bounded: every test round asks twice
(design, analysis), a review may follow each round, plus the first analysis and the
conclusion; corrective re-asks are not counted. Agent prompts grow with the transcript;
each is estimated at the size of the first one (the exemplars), so tokens are a lower bound.
"""

from __future__ import annotations

from typing import Any

from sae_interp.activations.records import LatentRecord
from sae_interp.agentic.prompts import analyze_exemplars, common
from sae_interp.agentic.schema import AgentTranscript
from sae_interp.agentic.tools import ModelTools
from sae_interp.evals.agentic.eval_config import AgenticEvalConfig
from sae_interp.evals.agentic.eval_output import LatentAgenticResult
from sae_interp.evals.common.arms import extra_seeds
from sae_interp.evals.common.latent_loop import pending_records
from sae_interp.evals.common.planning import plan_from_requests
from sae_interp.evals.common.records import PLACEHOLDER_EXPLANATION, prepare
from sae_interp.explainers.registry import planned_requests
from sae_interp.framework.runner import EvalContext, LLMPlan
from sae_interp.llm.types import ChatMessage, LLMRequest
from sae_interp.scorers import generation, prediction


def agent_calls_at_most(cfg: AgenticEvalConfig) -> int:
    """First analysis + (design, analysis, review) per round + conclusion."""
    return 1 + 3 * cfg.agent.max_rounds + 1


def plan_agentic(ctx: EvalContext[AgenticEvalConfig]) -> LLMPlan:
    cfg = ctx.config
    tokenizer = ctx.tokenizer
    setup = prepare(ctx, LatentAgenticResult, fresh=False)
    to_explain = [
        r for r in setup.usable if r.latent not in setup.store and r.latent not in setup.given
    ]
    # the configured explainer's requests (the run explains through the shared stage)
    requests = [q for r in to_explain for q in planned_requests(cfg, r, tokenizer)]
    pending = pending_records(setup.latents, setup.records, setup.results)
    n_explanations = 3 if cfg.shuffled_control and len(setup.usable) > 1 else 2
    for record in pending:
        requests += agent_requests(ctx, record)
        requests += evaluation_requests(cfg, record, n_explanations, tokenizer)
    notes = (
        f"agent: at most {agent_calls_at_most(cfg)} calls per latent (no corrective re-asks; "
        f"prompt tokens a lower bound); {len(setup.usable) - len(to_explain)} stored "
        f"explanations and {len(setup.results)} finished latents reused"
    )
    seeds = extra_seeds(cfg)
    if seeds:  # every latent's evaluations again per seed (the agent is not rerun)
        for record in setup.usable:
            requests += evaluation_requests(cfg, record, n_explanations, tokenizer) * len(seeds)
        notes += f"; {len(seeds)} extra seeds evaluate every latent again"
    if cfg.random_sae_control:  # one latent matched to each: the same work once more
        for record in setup.usable:
            requests += planned_requests(cfg, record, tokenizer)
            requests += agent_requests(ctx, record)
            requests += evaluation_requests(cfg, record, n_explanations, tokenizer)
        notes += "; random-SAE control estimated as this SAE's explanations, agent and evaluations"
    return plan_from_requests("agentic", ctx.sae_spec, cfg.llm, requests, notes)


def agent_requests(ctx: EvalContext[AgenticEvalConfig], record: LatentRecord) -> list[LLMRequest]:
    """The agent's calls on one latent, at most, each the size of its first one."""
    cfg = ctx.config
    tools = ModelTools(ctx.model, ctx.sae, record.latent, record.train)
    transcript = AgentTranscript(
        latent=record.latent,
        exemplars=tools.exemplars(0, cfg.agent.top_k),
        exemplar_mean_max=0.0,
    )
    first = LLMRequest(
        messages=(
            ChatMessage(role="system", content=common.SYSTEM),
            ChatMessage(role="user", content=analyze_exemplars.user_message(transcript)),
        ),
        max_tokens=cfg.agent.max_tokens,
        temperature=cfg.agent.temperature,
    )
    return [first] * agent_calls_at_most(cfg)


def evaluation_requests(
    cfg: AgenticEvalConfig, record: LatentRecord, n_explanations: int, tokenizer: Any
) -> list[LLMRequest]:
    """Generation and prediction of ``n_explanations`` explanations of one latent."""
    windows = prediction.bands(record.test, cfg.prediction.n_per_band)
    requests = []
    for _ in range(n_explanations):  # agentic, one-shot, shuffled-explanation control
        requests.append(generation.build_request(PLACEHOLDER_EXPLANATION, cfg.generation))
        requests += [
            prediction.build_request(
                PLACEHOLDER_EXPLANATION, w.str_tokens(tokenizer), cfg.prediction
            )
            for _, w in windows
        ]
    return requests
