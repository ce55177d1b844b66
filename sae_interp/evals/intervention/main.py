"""The intervention eval: does an explanation predict what a latent does to the outputs?

Per latent: prompts cut at its first activation -> strength search to the target KL ->
the tokens it promotes on the train prompts -> k explanations from the LLM -> clean and
steered continuations of the test prompts scored by a scoring LM. Controls in the same run:
each latent's continuations scored with another latent's explanations, and the whole
pipeline on a random SAE of the same shape. Per-latent results are appended to JSONL files
as each group of latents finishes; a killed run resumes where it stopped."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from tqdm.auto import tqdm

from sae_interp.activations.records import LatentRecord, RecordStatus
from sae_interp.evals.common import EvalResources, open_resources
from sae_interp.evals.common.scored import (
    latent_records,
    plan_from_requests,
    results_path,
    usage_delta,
)
from sae_interp.evals.intervention.eval_config import InterventionEvalConfig
from sae_interp.evals.intervention.eval_output import (
    Continuations,
    InterventionEvalOutput,
    InterventionMetrics,
    InterventionScores,
    LatentInterventionResult,
)
from sae_interp.explainers.output_explainer import build_requests, read_explanations
from sae_interp.framework.latent_store import LatentStore
from sae_interp.framework.runner import (
    EVALS,
    EvalContext,
    EvalDefinition,
    EvalResult,
    LLMPlan,
    run_per_sae,
)
from sae_interp.interventions.metrics import latent_score
from sae_interp.interventions.pipeline import steer_latent
from sae_interp.interventions.prompts import prompts_for
from sae_interp.llm.types import LLMRequest
from sae_interp.saes.base import BaseSAE
from sae_interp.saes.random_control import random_like
from sae_interp.scorers.controls import shuffled_explanation_sources
from sae_interp.scorers.intervention import score_explanations
from sae_interp.scoring_lm import ScoringLM, load_scoring_lm
from sae_interp.stats import (
    IntervalSettings,
    bootstrap_mean,
    difference_of_means,
    paired_difference,
    pool,
)

logger = logging.getLogger(__name__)


def _passages(result: LatentInterventionResult) -> tuple[list[str], list[str]]:
    clean = [c.prompt + c.clean for c in result.continuations]
    steered = [c.prompt + c.steered for c in result.continuations]
    return clean, steered


class _SaeRun:
    """The pipeline on one SAE (the evaluated one, or its random control)."""

    def __init__(
        self,
        ctx: EvalContext[InterventionEvalConfig],
        sae: BaseSAE,
        lm: ScoringLM,
        resources: EvalResources,
        suffix: str,
    ) -> None:
        self.ctx, self.cfg, self.sae, self.lm, self.resources = ctx, ctx.config, sae, lm, resources
        cache, self.latents, self.records = latent_records(ctx, self.cfg.sampling, sae)
        self.tokens = cache.tokens
        self.bos = bool(cache.meta.get("bos_prepended", True))
        path = results_path(ctx, fresh=self.cfg.force, suffix=suffix)
        self.store = LatentStore(path, LatentInterventionResult)

    def _decode(self, ids: Sequence[int], prompt: bool = False) -> str:
        tokenizer: Any = self.ctx.model.tokenizer
        return str(tokenizer.decode(list(ids[1:] if prompt and self.bos else ids)))

    def _steer(self, record: LatentRecord) -> tuple[LatentInterventionResult, list[LLMRequest]]:
        cfg = self.cfg
        result = LatentInterventionResult(
            latent=record.latent, status=record.status.value, max_activation=record.max_activation
        )
        if record.status != RecordStatus.ok:
            return result, []
        train = prompts_for(record.train, self.tokens, cfg.steering.prompt_len, self.bos)
        test = prompts_for(record.test, self.tokens, cfg.steering.prompt_len, self.bos)
        if not train or not test:
            result.status = "no_prompts"
            return result, []
        outcome = steer_latent(
            self.ctx.model,
            self.sae,
            record.latent,
            train,
            test,
            cfg.steering,
            start=record.max_activation,
            n_top_tokens=cfg.explainer.n_top_tokens,
            seed=cfg.seed,
        )
        result.strength = outcome.strength
        result.train_prompts = [self._decode(p, prompt=True) for p in train]
        result.train_top_tokens = [
            [self._decode([token]) for token, _ in row] for row in outcome.train_rises
        ]
        result.continuations = [
            Continuations(
                prompt=self._decode(p, prompt=True),
                clean=self._decode(c),
                steered=self._decode(s),
            )
            for p, c, s in zip(test, outcome.clean, outcome.steered, strict=True)
        ]
        examples = list(zip(result.train_prompts, result.train_top_tokens, strict=True))
        return result, build_requests(examples, cfg.explainer, cfg.seed)

    def _score(self, result: LatentInterventionResult) -> None:
        texts = [e.text for e in result.explanations if e.text is not None]
        if not texts:
            result.status = "explanation_failed"
            return
        result.explanation_scores = score_explanations(self.lm, *_passages(result), texts)
        result.score = latent_score(result.explanation_scores)

    def run(self) -> list[LatentInterventionResult]:
        pending = [latent for latent in self.latents if latent not in self.store]
        group = max(1, self.cfg.llm.effective_concurrency())
        for i in tqdm(range(0, len(pending), group), desc="intervention", leave=False):
            steered = [self._steer(self.records[latent]) for latent in pending[i : i + group]]
            requests = [r for _, reqs in steered for r in reqs]
            answers = self.resources.service.complete_all(requests) if requests else []
            start = 0
            for result, reqs in steered:
                if reqs:
                    result.explanations = read_explanations(
                        result.latent, answers[start : start + len(reqs)]
                    )
                    start += len(reqs)
                    self._score(result)
                self.store.put(result)
        return [r for r in (self.store.get(latent) for latent in self.latents) if r is not None]

    def shuffled_control(self, results: list[LatentInterventionResult]) -> None:
        """Score each latent's continuations with another latent's explanations."""
        scored = {r.latent: r for r in results if r.score is not None}
        texts_of = {
            latent: "\n".join(sorted(e.text for e in r.explanations if e.text is not None))
            for latent, r in scored.items()
        }
        sources = shuffled_explanation_sources(sorted(scored), self.cfg.seed, texts_of)
        for latent, source in sources.items():
            result = scored[latent]
            if result.control_score is not None:
                continue
            texts = [e.text for e in scored[source].explanations if e.text is not None]
            result.control_explanation_of = source
            result.control_score = latent_score(
                score_explanations(self.lm, *_passages(result), texts)
            )
            self.store.put(result)


def _valid(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def latent_scores(result: LatentInterventionResult) -> InterventionScores | None:
    if not _valid(result.score) or result.strength is None:
        return None
    return InterventionScores(
        score=result.score,  # type: ignore[arg-type]
        kl=result.strength.kl,
        converged=float(result.strength.converged),
        delta=result.strength.delta,
    )


def pool_results(results: Sequence[LatentInterventionResult], settings: IntervalSettings) -> Any:
    return pool(InterventionScores, [latent_scores(r) for r in results], settings)


def _scoring_lm(ctx: EvalContext[InterventionEvalConfig], resources: EvalResources) -> ScoringLM:
    cfg = ctx.config
    return resources.shared(
        f"scoring_lm:{cfg.scoring_lm.model_dump_json()}",
        lambda: load_scoring_lm(cfg.scoring_lm, ctx.model, cfg.model),
    )


def run_intervention(ctx: EvalContext[InterventionEvalConfig]) -> EvalResult:
    cfg, resources = ctx.config, ctx.resources
    assert isinstance(resources, EvalResources)
    usage_before = resources.usage()
    lm = _scoring_lm(ctx, resources)
    real = _SaeRun(ctx, ctx.sae, lm, resources, suffix="")
    results = real.run()
    if cfg.random_control:
        real.shuffled_control(results)
    random_results: list[LatentInterventionResult] = []
    if cfg.random_sae_control:
        control_sae = random_like(ctx.sae, cfg.random_sae_seed)
        random_results = _SaeRun(ctx, control_sae, lm, resources, suffix="_random_sae").run()
    status = [r.status for r in results]
    scored = [r for r in results if _valid(r.score)]
    random_scored = [r.score for r in random_results if _valid(r.score)]
    metrics = InterventionMetrics(
        intervention=pool_results(results, cfg.intervals),
        random_explanation_control=bootstrap_mean([r.control_score for r in scored], cfg.intervals)
        if cfg.random_control
        else None,
        real_minus_explanation_control=paired_difference(
            [r.score for r in scored], [r.control_score for r in scored], cfg.intervals
        )
        if cfg.random_control
        else None,
        random_sae_control=pool_results(random_results, cfg.intervals),
        real_minus_random_sae=difference_of_means(
            [r.score for r in scored], random_scored, cfg.intervals
        )
        if cfg.random_sae_control
        else None,
        target_kl=cfg.steering.target_kl,
        n_requested=len(results),
        n_scored=sum(_valid(r.score) for r in results),
        n_too_rare=status.count(RecordStatus.too_rare.value),
        n_dead=status.count(RecordStatus.dead.value),
        n_no_prompts=status.count("no_prompts"),
        n_failed_explanations=status.count("explanation_failed"),
        n_not_converged=sum(r.strength is not None and not r.strength.converged for r in results),
        llm_usage=usage_delta(usage_before, resources.usage()),
    )
    return EvalResult(
        metrics=metrics,
        details=results,
        unstructured={"random_sae_control": [r.model_dump(mode="json") for r in random_results]},
    )


def plan_intervention(ctx: EvalContext[InterventionEvalConfig]) -> LLMPlan:
    """Explainer calls of latents not finished yet (the random-SAE control is assumed to
    need as many); prompts are estimated with placeholder tokens."""
    cfg = ctx.config
    _, latents, records = latent_records(ctx, cfg.sampling)
    store = LatentStore(results_path(ctx, fresh=False), LatentInterventionResult)
    requests: list[LLMRequest] = []
    for latent in latents:
        record = records[latent]
        if latent in store or record.status != RecordStatus.ok:
            continue
        tokenizer: Any = ctx.model.tokenizer
        texts = [str(tokenizer.decode(w.tokens)) for w in record.train]
        examples = [(t, ["token"] * cfg.explainer.n_top_tokens) for t in texts]
        requests += build_requests(examples, cfg.explainer, cfg.seed)
    requests *= 2 if cfg.random_sae_control else 1
    notes = f"{len(store)} finished latents reused; random-SAE control estimated as equal"
    return plan_from_requests("intervention", ctx.sae_spec, cfg.llm, requests, notes)


DEFINITION = EVALS.register(
    "intervention",
    EvalDefinition(
        eval_type_id="intervention",
        config_cls=InterventionEvalConfig,
        output_cls=InterventionEvalOutput,
        run=run_intervention,
        resources=lambda cfg: open_resources(cfg.llm, cfg.seed),
        plan=plan_intervention,
        latent_metrics=latent_scores,
        table_columns=(
            "intervention.score",
            "random_explanation_control",
            "real_minus_explanation_control",
            "random_sae_control.score",
            "real_minus_random_sae",
            "intervention.kl",
            "intervention.converged",
            "n_scored",
            "n_not_converged",
            "n_failed_explanations",
            "llm_usage.calls",
        ),
    ),
)


def run_eval(
    config: InterventionEvalConfig | None = None, **kwargs: Any
) -> list[InterventionEvalOutput]:
    """Run the intervention eval on every SAE of ``config`` (``kwargs``: ``model=``, ``saes=``)."""
    return run_per_sae(DEFINITION, config or InterventionEvalConfig(), **kwargs)  # type: ignore[return-value]
