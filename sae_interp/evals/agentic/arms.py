"""The agentic eval's controls beyond its own latents, on the shared per-latent loop:

- the random-SAE control: the whole agentic pipeline (one-shot explanation, agent,
  evaluations) on ``random_like(sae)``, on latents matched by firing frequency;
- reseeds: the agent's, the one-shot and the control explanations of every finished latent
  evaluated again on test windows, control explanations and generated texts drawn with
  another seed (the agent is not run again; its exemplars, the train windows, are kept).

Each arm keeps its own per-latent JSONL, so a killed run resumes inside an arm too.
"""

from __future__ import annotations

from collections.abc import Callable

from sae_interp.activations.records import LatentRecord
from sae_interp.evals.agentic.eval_config import AgenticEvalConfig
from sae_interp.evals.agentic.eval_output import LatentAgenticResult
from sae_interp.evals.agentic.stages import explain_and_evaluate, reevaluate
from sae_interp.evals.common.arms import (
    control_sources,
    extra_seeds,
    random_sae_setup,
    reseeded_records,
    seeded_context,
)
from sae_interp.evals.common.latent_loop import run_latents
from sae_interp.evals.common.records import Setup, refresh_explanations, results_path
from sae_interp.evals.common.resources import EvalResources
from sae_interp.explainers.explanations import Explanation
from sae_interp.explainers.registry import explanations
from sae_interp.framework.latent_store import LatentStore
from sae_interp.framework.runner import EvalContext

Work = Callable[[list[int]], list[LatentAgenticResult]]


def agent_work(
    ctx: EvalContext[AgenticEvalConfig],
    resources: EvalResources,
    records: dict[int, LatentRecord],
    one_shot: dict[int, Explanation],
) -> Work:
    """The agentic stage on a group of latents of ``ctx``'s SAE."""
    controls = control_sources(one_shot, ctx.config.shuffled_control, ctx.config.seed) or {}

    def work(latents: list[int]) -> list[LatentAgenticResult]:
        return [
            explain_and_evaluate(ctx, resources, records[latent], one_shot, controls)
            for latent in latents
        ]

    return work


def run_agent_latents(
    ctx: EvalContext[AgenticEvalConfig],
    latents: list[int],
    store: LatentStore[LatentAgenticResult],
    work: Work,
    desc: str,
) -> list[LatentAgenticResult]:
    # latents run at once up to the LLM's concurrency (the model tools take turns)
    overlap = ctx.config.llm.effective_concurrency()
    return run_latents(latents, store, work, group=1, desc=desc, overlap=overlap)


def random_sae_arm(
    ctx: EvalContext[AgenticEvalConfig], resources: EvalResources, setup: Setup
) -> tuple[EvalContext[AgenticEvalConfig], list[LatentAgenticResult]]:
    """The agentic eval on a random SAE of the same shape, latents matched by frequency:
    the context it ran in (the random SAE in place) and its per-latent results."""
    cfg = ctx.config
    arm = random_sae_setup(ctx, setup, refresh_explanations(cfg))
    one_shot = explanations(cfg, arm.usable, ctx.tokenizer, resources, arm.store)
    store = LatentStore(results_path(ctx, cfg.force, suffix="_random_sae"), LatentAgenticResult)
    work = agent_work(arm.ctx, resources, arm.records, one_shot)
    return arm.ctx, run_agent_latents(arm.ctx, arm.latents, store, work, "agentic (random SAE)")


def reseed_arms(
    ctx: EvalContext[AgenticEvalConfig],
    resources: EvalResources,
    setup: Setup,
    results: list[LatentAgenticResult],
    one_shot: dict[int, Explanation],
) -> dict[int, list[LatentAgenticResult]]:
    """Per extra seed, every latent with a transcript evaluated again under that seed."""
    cfg = ctx.config
    base = {r.latent: r for r in results if r.transcript is not None}
    latents = [latent for latent in setup.latents if latent in base]
    runs: dict[int, list[LatentAgenticResult]] = {}
    for seed in extra_seeds(cfg):
        seeded = seeded_context(ctx, seed)
        records = reseeded_records(ctx, setup, seed)
        controls = control_sources(one_shot, cfg.shuffled_control, seed) or {}

        def work(
            group: list[int],
            seeded: EvalContext[AgenticEvalConfig] = seeded,
            records: dict[int, LatentRecord] = records,
            controls: dict[int, int] = controls,
        ) -> list[LatentAgenticResult]:
            return [
                reevaluate(seeded, resources, records[latent], base[latent], one_shot, controls)
                for latent in group
            ]

        store = LatentStore(results_path(seeded, cfg.force, suffix="_reseed"), LatentAgenticResult)
        runs[seed] = run_agent_latents(ctx, latents, store, work, f"agentic (seed {seed})")
    return runs
