"""The agentic explanation eval. Per latent: the agent (``sae_interp.agentic``) explains it
by experiments on the live model; then its explanation, the one-shot explanation of the same
latent, and another latent's one-shot explanation (random-explanation control) are evaluated
by generation and prediction. Results (with the agent's full transcript, token usage and
cost) are appended per latent; a killed run resumes at the next unfinished latent."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from tqdm.auto import tqdm

from sae_interp.activations.records import LatentRecord, RecordStatus
from sae_interp.agentic.controller import AgentController, AgentLLM
from sae_interp.agentic.tools import ModelTools, ToolError
from sae_interp.evals.agentic.eval_config import AgenticEvalConfig
from sae_interp.evals.agentic.eval_output import (
    AgenticEvalOutput,
    AgenticMetrics,
    ExplanationEvaluation,
    ExplanationScores,
    LatentAgenticResult,
)
from sae_interp.evals.agentic.plan import plan_agentic
from sae_interp.evals.common import EvalResources, open_resources
from sae_interp.evals.common.scored import (
    control_sources,
    prepare,
    refresh_explanations,
    usage_delta,
)
from sae_interp.explainers.pipeline import explanations_for
from sae_interp.framework.runner import EVALS, EvalContext, EvalDefinition, EvalResult, run_per_sae
from sae_interp.llm.errors import LLMError
from sae_interp.llm.service import LLMService
from sae_interp.llm.types import ChatMessage, LLMRequest, LLMResponse
from sae_interp.scorers import generation, prediction
from sae_interp.stats import IntervalSettings, pool, pool_paired_difference

logger = logging.getLogger(__name__)


def agent_llm(service: LLMService, cfg: AgenticEvalConfig) -> AgentLLM:
    """The agent's view of the LLM layer: messages in, text (or the error) out."""

    def call(messages: list[ChatMessage]) -> str | LLMError:
        request = LLMRequest(
            messages=tuple(messages),
            max_tokens=cfg.agent.max_tokens,
            temperature=cfg.agent.temperature,
        )
        answer = service.complete_all([request], progress=False)[0]
        return answer.text if isinstance(answer, LLMResponse) else answer

    return call


def evaluate(
    explanations: Sequence[str],
    record: LatentRecord,
    tools: ModelTools,
    reference: float,
    cfg: AgenticEvalConfig,
    service: LLMService,
) -> list[ExplanationEvaluation]:
    """Generation and prediction for several explanations of one latent, all LLM calls sent
    together."""
    windows = prediction.bands(record.test, cfg.prediction.n_per_band)
    tokenizer = tools.model.tokenizer
    shown = [(band, w, w.str_tokens(tokenizer)) for band, w in windows]
    requests: list[LLMRequest] = []
    for text in explanations:
        requests.append(generation.build_request(text, cfg.generation))
        requests += [prediction.build_request(text, toks, cfg.prediction) for _, _, toks in shown]
    answers = service.complete_all(requests, progress=False)
    per = 1 + len(shown)
    out = []
    for i, text in enumerate(explanations):
        chunk = answers[i * per : (i + 1) * per]
        gen = generation.read_texts(chunk[0], cfg.generation.n_texts)
        if gen.texts:
            peaks = []
            for t in gen.texts:
                try:
                    peaks.append(tools.run_text(t).max_activation)
                except ToolError:
                    peaks.append(0.0)
            rate, mean, threshold = generation.generation_metrics(peaks, reference)
            gen = gen.model_copy(
                update={
                    "max_activations": peaks,
                    "success_rate": rate,
                    "mean_activation": mean,
                    "threshold": threshold,
                }
            )
        predicted = [
            prediction.read_prediction(
                prediction.PredictedWindow(seq=w.seq, start=w.start, band=band, true=w.activations),
                answer,
            )
            for (band, w, _), answer in zip(shown, chunk[1:], strict=True)
        ]
        out.append(
            ExplanationEvaluation(
                explanation=text,
                generation=gen,
                prediction=prediction.prediction_result(predicted),
            )
        )
    return out


def run_agentic(ctx: EvalContext[AgenticEvalConfig]) -> EvalResult:
    cfg, resources = ctx.config, ctx.resources
    assert isinstance(resources, EvalResources)
    usage_start = resources.usage()
    setup = prepare(ctx, LatentAgenticResult, cfg.force, refresh_explanations(cfg))
    service = resources.service
    one_shot = explanations_for(
        setup.usable, ctx.model.tokenizer, service, cfg.explainer, setup.store, setup.given
    )
    controls = control_sources(one_shot, cfg.random_control, cfg.seed) or {}
    pending = [latent for latent in setup.latents if latent not in setup.results]
    for latent in tqdm(pending, desc="agentic", leave=False):
        record = setup.records[latent]
        result = LatentAgenticResult(latent=latent, status=record.status.value)
        if record.status != RecordStatus.ok:
            setup.results.put(result)
            continue
        before = resources.usage()
        tools = ModelTools(ctx.model, ctx.sae, latent, record.train)
        transcript = AgentController(agent_llm(service, cfg), tools, cfg.agent, latent).run()
        result.transcript = transcript
        texts: list[str] = []
        if transcript.conclusion is not None:
            texts.append(transcript.conclusion.description)
        else:
            result.status = "no_conclusion"
        own = one_shot.get(latent)
        if own is not None and own.text is not None:
            texts.append(own.text)
        if latent in controls:
            texts.append(one_shot[controls[latent]].text or "")
        evaluations = evaluate(texts, record, tools, transcript.exemplar_mean_max, cfg, service)
        if transcript.conclusion is not None:
            result.agentic = evaluations.pop(0)
        if own is not None and own.text is not None:
            result.one_shot = evaluations.pop(0)
        if latent in controls:
            result.control_explanation_of = controls[latent]
            result.random_explanation_control = evaluations.pop(0)
        result.llm_usage = usage_delta(before, resources.usage())
        setup.results.put(result)
    final = [r for r in (setup.results.get(latent) for latent in setup.latents) if r is not None]
    return EvalResult(
        metrics=summarise(final, usage_delta(usage_start, resources.usage()), cfg.intervals),
        details=final,
    )


def _scores(evaluation: ExplanationEvaluation | None) -> ExplanationScores | None:
    return evaluation.scores() if evaluation is not None else None


def summarise(
    results: Sequence[LatentAgenticResult],
    usage: dict[str, Any],
    intervals: IntervalSettings | None = None,
) -> AgenticMetrics:
    agentic = [_scores(r.agentic) for r in results]
    one_shot = [_scores(r.one_shot) for r in results]
    control = [_scores(r.random_explanation_control) for r in results]
    conclusions = [r.transcript.conclusion for r in results if r.transcript is not None]
    tests = [len(r.transcript.tests) for r in results if r.transcript is not None]
    status = [r.status for r in results]
    return AgenticMetrics(
        agentic=pool(ExplanationScores, agentic, intervals),
        one_shot=pool(ExplanationScores, one_shot, intervals),
        random_explanation_control=pool(ExplanationScores, control, intervals),
        agentic_minus_one_shot=pool_paired_difference(
            ExplanationScores, list(zip(agentic, one_shot, strict=True)), intervals
        ),
        agentic_minus_control=pool_paired_difference(
            ExplanationScores, list(zip(agentic, control, strict=True)), intervals
        ),
        n_requested=len(results),
        n_concluded=sum(c is not None and not c.forced for c in conclusions),
        n_forced=sum(c is not None and c.forced for c in conclusions),
        n_no_conclusion=status.count("no_conclusion"),
        n_too_rare=status.count(RecordStatus.too_rare.value),
        n_dead=status.count(RecordStatus.dead.value),
        mean_tests=sum(tests) / len(tests) if tests else 0.0,
        llm_usage=usage,
    )


DEFINITION = EVALS.register(
    "agentic",
    EvalDefinition(
        eval_type_id="agentic",
        config_cls=AgenticEvalConfig,
        output_cls=AgenticEvalOutput,
        run=run_agentic,
        latent_metrics=lambda result: _scores(result.agentic),
        resources=lambda cfg: open_resources(cfg.llm, cfg.seed),
        plan=plan_agentic,
        table_columns=(
            "agentic.prediction_pearson",
            "one_shot.prediction_pearson",
            "random_explanation_control.prediction_pearson",
            "agentic.generation_success_rate",
            "one_shot.generation_success_rate",
            "random_explanation_control.generation_success_rate",
            "n_concluded",
            "n_forced",
            "mean_tests",
            "llm_usage.calls",
        ),
    ),
)


def run_eval(config: AgenticEvalConfig | None = None, **kwargs: Any) -> list[AgenticEvalOutput]:
    """Run the agentic eval on every SAE of ``config`` (``kwargs``: ``model=``, ``saes=``)."""
    return run_per_sae(DEFINITION, config or AgenticEvalConfig(), **kwargs)  # type: ignore[return-value]
