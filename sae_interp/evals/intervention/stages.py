"""The intervention eval's stages on one SAE (the evaluated one, or its random SAE), run
by the shared per-latent loop (:func:`~sae_interp.evals.common.latent_loop.run_latents`):

1. explain (a group of latents): prompts cut at each latent's first activation -> strength
   search to the target KL -> the tokens it promotes on the train prompts -> k explanations
   from the LLM (one batch of requests per group) -> clean vs steered continuations of the
   test prompts scored by the scoring LM;
2. control (once every latent is explained): each latent's continuations scored with another
   latent's explanations (the shared shuffled-explanation sources).
"""

from __future__ import annotations

from collections.abc import Sequence

from transformer_lens import HookedTransformer

from sae_interp.activations.latents import latent_cache_for, match_by_frequency
from sae_interp.activations.records import LatentRecord, RecordStatus
from sae_interp.evals.common.arms import control_sources
from sae_interp.evals.common.latent_loop import pending_records, run_latents
from sae_interp.evals.common.records import latent_records, results_path, sampled_records
from sae_interp.evals.common.resources import EvalResources
from sae_interp.evals.intervention.eval_config import InterventionEvalConfig
from sae_interp.evals.intervention.eval_output import Continuations, LatentInterventionResult
from sae_interp.explainers.explanations import Explanation
from sae_interp.explainers.output_explainer import build_requests, explanations_from_answers
from sae_interp.framework.latent_store import LatentStore
from sae_interp.framework.runner import EvalContext
from sae_interp.interventions.metrics import latent_score
from sae_interp.interventions.prompts import prompts_for
from sae_interp.interventions.steering import steer_latent
from sae_interp.llm.types import LLMRequest
from sae_interp.scorers.intervention import score_explanations
from sae_interp.scoring_lm import ScoringLM


def passages(result: LatentInterventionResult) -> tuple[list[str], list[str]]:
    """The clean and the steered passages (prompt + continuation) of a latent's test prompts."""
    clean = [c.prompt + c.clean for c in result.continuations]
    steered = [c.prompt + c.steered for c in result.continuations]
    return clean, steered


def decode(model: HookedTransformer, ids: Sequence[int]) -> str:
    assert model.tokenizer is not None
    return str(model.tokenizer.decode(list(ids)))


def explanation_texts(result: LatentInterventionResult) -> list[str]:
    return [e.text for e in result.explanations if e.text is not None]


class InterventionArm:
    """The stages on the SAE of ``ctx`` (the evaluated one, or a random SAE in its place);
    per-latent results go to their own JSONL (``suffix``). With ``match_to``, the latents
    are not chosen by the config but matched one to one, by firing frequency, to the latents
    of that arm (how the random-SAE arm picks its latents, as in every other eval)."""

    def __init__(
        self,
        ctx: EvalContext[InterventionEvalConfig],
        lm: ScoringLM,
        resources: EvalResources,
        suffix: str = "",
        match_to: InterventionArm | None = None,
    ) -> None:
        self.ctx, self.cfg, self.sae, self.lm = ctx, ctx.config, ctx.sae, lm
        self.resources = resources
        if match_to is None:
            cache, self.latents, self.records = latent_records(ctx, self.cfg.sampling)
        else:
            cfg = self.cfg
            cache = latent_cache_for(
                ctx.model, ctx.sae, cfg.corpus, cfg.n_tokens, cfg.ctx_len, cfg.batch_size
            )
            frequencies = [match_to.records[lat].firing_frequency for lat in match_to.latents]
            self.latents = match_by_frequency(frequencies, cache, cfg.sampling.min_activating)
            self.records = sampled_records(ctx, ctx.sae, cache, self.latents, cfg.seed)
        self.tokens = cache.tokens
        self.bos = bool(cache.meta.get("bos_prepended", True))
        path = results_path(ctx, fresh=self.cfg.force, suffix=suffix)
        self.store = LatentStore(path, LatentInterventionResult)
        self.desc = "intervention" + suffix.replace("_", " ")

    @property
    def model(self) -> HookedTransformer:
        return self.ctx.model

    def _decode(self, ids: Sequence[int], prompt: bool = False) -> str:
        return decode(self.model, ids[1:] if prompt and self.bos else ids)

    def steer(self, record: LatentRecord) -> tuple[LatentInterventionResult, list[LLMRequest]]:
        """A latent steered (clean and steered continuations, top tokens on the train
        prompts) and the explainer's requests for it (none when it cannot be steered)."""
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
            self.model,
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
                prompt=self._decode(p, prompt=True), clean=self._decode(c), steered=self._decode(s)
            )
            for p, c, s in zip(test, outcome.clean, outcome.steered, strict=True)
        ]
        examples = list(zip(result.train_prompts, result.train_top_tokens, strict=True))
        return result, build_requests(examples, cfg.explainer, cfg.seed)

    def explain_and_score(self, latents: list[int]) -> list[LatentInterventionResult]:
        """Stage 1 on a group of latents: their explainer requests sent as one batch."""
        steered = [self.steer(self.records[latent]) for latent in latents]
        requests = [r for _, reqs in steered for r in reqs]
        answers = self.resources.service.complete_all(requests) if requests else []
        start = 0
        for result, reqs in steered:
            if not reqs:
                continue
            result.explanations = explanations_from_answers(
                result.latent, answers[start : start + len(reqs)]
            )
            start += len(reqs)
            texts = explanation_texts(result)
            if not texts:
                result.status = "explanation_failed"
                continue
            result.explanation_scores = score_explanations(self.lm, *passages(result), texts)
            result.score = latent_score(result.explanation_scores)
        return [result for result, _ in steered]

    def run(self) -> list[LatentInterventionResult]:
        group = max(1, self.cfg.llm.effective_concurrency())
        return run_latents(
            self.latents,
            self.store,
            self.explain_and_score,
            group=group,
            desc=self.desc,
        )  # a latent whose explanations all failed is not stored: a rerun steers it again

    def control(self, results: list[LatentInterventionResult]) -> list[LatentInterventionResult]:
        """Stage 2: each scored latent's continuations scored with another latent's
        explanations (all of them joined are what must differ from its own)."""
        scored = {r.latent: r for r in results if r.score is not None}
        joined = {
            latent: Explanation(latent=latent, text="\n".join(sorted(explanation_texts(r))))
            for latent, r in sorted(scored.items())
        }
        sources = control_sources(joined, True, self.cfg.seed) or {}

        def score_control(latents: list[int]) -> list[LatentInterventionResult]:
            for latent in latents:
                result, source = scored[latent], sources[latent]
                texts = explanation_texts(scored[source])
                result.control_explanation_of = source
                result.control_score = latent_score(
                    score_explanations(self.lm, *passages(result), texts)
                )
            return [scored[latent] for latent in latents]

        run_latents(
            [latent for latent in self.latents if latent in sources],
            self.store,
            score_control,
            group=1,
            desc=f"{self.desc} (control)",
            finished=lambda r: r.control_score is not None,
        )
        return [self.store.get(r.latent) or r for r in results]  # unfinished ones as they are


def planned_requests(ctx: EvalContext[InterventionEvalConfig]) -> tuple[list[LLMRequest], int]:
    """The explainer requests of the latents not finished yet (the tokens that rise are
    estimated with placeholders), and how many latents are finished."""
    cfg = ctx.config
    _, latents, records = latent_records(ctx, cfg.sampling)
    store = LatentStore(results_path(ctx, fresh=False), LatentInterventionResult)
    risen = ["token"] * cfg.explainer.n_top_tokens
    requests: list[LLMRequest] = []
    for record in pending_records(latents, records, store):
        examples = [(decode(ctx.model, w.tokens), risen) for w in record.train]
        requests += build_requests(examples, cfg.explainer, cfg.seed)
    return requests, len(store)
