"""The agentic eval's stage on one latent, run by the shared per-latent loop
(:func:`~sae_interp.evals.common.latent_loop.run_latents`): the agent explains the latent by
experiments on the live model, then its explanation, the latent's one-shot explanation and
another latent's (the shuffled-explanation control) are evaluated by generation and
prediction, all LLM calls of the evaluation sent together."""

from __future__ import annotations

from collections.abc import Sequence

from sae_interp.activations.records import LatentRecord, RecordStatus
from sae_interp.agentic.controller import AgentController, AgentLLM
from sae_interp.agentic.tools import ModelTools, ToolError
from sae_interp.evals.agentic.eval_config import AgenticEvalConfig
from sae_interp.evals.agentic.eval_output import ExplanationEvaluation, LatentAgenticResult
from sae_interp.evals.common.resources import EvalResources
from sae_interp.explainers.explanations import Explanation
from sae_interp.framework.runner import EvalContext
from sae_interp.llm.errors import LLMError
from sae_interp.llm.service import LLMService, recorded_usage
from sae_interp.llm.types import ChatMessage, LLMRequest, LLMResponse
from sae_interp.scorers import generation, prediction


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
        requests.append(generation.build_request(text, cfg.generation, cfg.seed))
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


def _evaluate_all(
    result: LatentAgenticResult,
    conclusion: str | None,
    record: LatentRecord,
    tools: ModelTools,
    reference: float,
    one_shot: dict[int, Explanation],
    controls: dict[int, int],
    cfg: AgenticEvalConfig,
    service: LLMService,
) -> None:
    """Evaluate the agent's conclusion, the latent's one-shot explanation and the control
    explanation (those that exist) into ``result``."""
    latent = record.latent
    own = one_shot.get(latent)
    own_text = own.text if own is not None else None
    control_text = one_shot[controls[latent]].text or "" if latent in controls else None
    texts = [t for t in (conclusion, own_text, control_text) if t is not None]
    evaluations = evaluate(texts, record, tools, reference, cfg, service)
    if conclusion is not None:
        result.agentic = evaluations.pop(0)
    if own_text is not None:
        result.one_shot = evaluations.pop(0)
    if control_text is not None:
        result.control_explanation_of = controls[latent]
        result.shuffled_control = evaluations.pop(0)


def explain_and_evaluate(
    ctx: EvalContext[AgenticEvalConfig],
    resources: EvalResources,
    record: LatentRecord,
    one_shot: dict[int, Explanation],
    controls: dict[int, int],
) -> LatentAgenticResult:
    """One latent: the agent's transcript and the evaluations of the agent's, the one-shot
    and the control explanation, with the LLM usage of this latent alone."""
    cfg, latent = ctx.config, record.latent
    result = LatentAgenticResult(latent=latent, status=record.status.value)
    if record.status != RecordStatus.ok:
        return result
    with recorded_usage() as used:  # this latent's calls alone, whatever runs beside it
        service = resources.service
        tools = ModelTools(ctx.model, ctx.sae, latent, record.train)
        transcript = AgentController(agent_llm(service, cfg), tools, cfg.agent, latent).run()
        result.transcript = transcript
        conclusion = (
            transcript.conclusion.description if transcript.conclusion is not None else None
        )
        if conclusion is None:
            result.status = "no_conclusion"
        reference = transcript.exemplar_mean_max
        _evaluate_all(
            result, conclusion, record, tools, reference, one_shot, controls, cfg, service
        )
    result.llm_usage = dict(used)
    _mark_failure(result, one_shot.get(latent))
    return result


def reevaluate(
    ctx: EvalContext[AgenticEvalConfig],
    resources: EvalResources,
    record: LatentRecord,
    base: LatentAgenticResult,
    one_shot: dict[int, Explanation],
    controls: dict[int, int],
) -> LatentAgenticResult:
    """``base``'s explanations (the agent's conclusion is not asked again) evaluated on
    ``record`` (drawn with ``ctx``'s seed) and the control of that seed; the result holds no
    transcript."""
    cfg = ctx.config
    result = LatentAgenticResult(latent=base.latent, status=base.status)
    transcript = base.transcript
    if transcript is None:
        return result
    with recorded_usage() as used:
        tools = ModelTools(ctx.model, ctx.sae, base.latent, record.train)
        conclusion = (
            transcript.conclusion.description if transcript.conclusion is not None else None
        )
        _evaluate_all(
            result,
            conclusion,
            record,
            tools,
            transcript.exemplar_mean_max,
            one_shot,
            controls,
            cfg,
            resources.service,
        )
    result.llm_usage = dict(used)
    return result


def _mark_failure(result: LatentAgenticResult, own: Explanation | None) -> None:
    """A latent whose one-shot explanation or any agent call failed at the LLM is a failure
    of that kind (counted, not stored), never a result."""
    steps = result.transcript.steps if result.transcript is not None else []
    failed_step = next((s for s in steps if s.error_kind), None)
    if own is not None and own.error is not None:
        result.status, result.error = "explanation_failed", own.error
        result.error_kind = own.error_kind
    elif failed_step is not None:
        result.status, result.error = "scoring_failed", failed_step.error
        result.error_kind = failed_step.error_kind
