"""The structured explainer: the one-shot explainer's view of the train windows, answered
with a list of rules ``{activates_on, strength 0..5}`` (at most ``max_rules``). A reply that
cannot be read gets one corrective retry (the error is said back to the model); a second
failure is recorded with both raw replies, never stored as an explanation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from sae_interp.activations.records import LatentRecord
from sae_interp.base import FrozenModel
from sae_interp.explainers import structured_prompts as prompts
from sae_interp.explainers.cost import ExplanationCost
from sae_interp.explainers.explanations import Explanation
from sae_interp.explainers.one_shot import UNPARSEABLE, OneShotSettings
from sae_interp.explainers.one_shot import build_request as one_shot_request
from sae_interp.llm.errors import LLMError
from sae_interp.llm.service import LLMService
from sae_interp.llm.types import ChatMessage, LLMRequest, LLMResponse
from sae_interp.text.rules import Rule, parse_rules, render_rules


class StructuredSettings(FrozenModel):
    max_rules: int = Field(default=5, gt=0, description="Most rules per explanation.")
    max_tokens: int = Field(default=400, gt=0, description="Answer length limit.")


def build_request(
    record: LatentRecord, tokenizer: Any, one_shot: OneShotSettings, settings: StructuredSettings
) -> LLMRequest:
    shown = one_shot_request(record, tokenizer, one_shot).messages[-1]  # the examples
    return LLMRequest(
        messages=(ChatMessage(role="system", content=prompts.system(settings.max_rules)), shown),
        max_tokens=settings.max_tokens,
        temperature=one_shot.temperature,
    )


def retry_request(request: LLMRequest, raw: str, error: str, cap: int) -> LLMRequest:
    messages = (
        *request.messages,
        ChatMessage(role="assistant", content=raw),
        ChatMessage(role="user", content=prompts.correction(error, cap)),
    )
    return request.model_copy(update={"messages": messages})


def rules_explanation(
    latent: int, rules: list[Rule], raw: str, cost: ExplanationCost | None = None
) -> Explanation:
    return Explanation(latent=latent, text=render_rules(rules), raw=raw, rules=rules, cost=cost)


def explain(
    records: Sequence[LatentRecord],
    tokenizer: Any,
    service: LLMService,
    one_shot: OneShotSettings,
    settings: StructuredSettings,
    progress: bool = True,
) -> list[Explanation]:
    cap = settings.max_rules
    requests = [build_request(r, tokenizer, one_shot, settings) for r in records]
    answers = service.complete_all(requests, progress=progress, desc="explaining (rules)")
    out: dict[int, Explanation] = {}
    retry: list[tuple[LatentRecord, LLMRequest, str, LLMRequest, ExplanationCost]] = []
    for record, request, answer in zip(records, requests, answers, strict=True):
        if isinstance(answer, LLMError):
            out[record.latent] = Explanation(
                latent=record.latent, text=None, error=str(answer), error_kind=answer.kind.value
            )
            continue
        first_cost = ExplanationCost.of(answer)
        parsed = parse_rules(answer.text, cap)
        if isinstance(parsed, str):
            second_request = retry_request(request, answer.text, parsed, cap)
            retry.append((record, second_request, answer.text, request, first_cost))
        else:
            out[record.latent] = rules_explanation(record.latent, parsed, answer.text, first_cost)
    second = service.complete_all([item[1] for item in retry]) if retry else []
    for (record, second_request, first_raw, first, cost), answer in zip(retry, second, strict=True):
        if isinstance(answer, LLMError):
            out[record.latent] = Explanation(
                latent=record.latent,
                text=None,
                raw=first_raw,
                error=str(answer),
                error_kind=answer.kind.value,
                cost=cost,
            )
            continue
        assert isinstance(answer, LLMResponse)
        cost = cost + ExplanationCost.of(answer)
        parsed = parse_rules(answer.text, cap)
        both = f"{first_raw}\n--- after correction ---\n{answer.text}"
        if isinstance(parsed, str):
            error = f"rules unreadable after one corrective retry: {parsed}"
            out[record.latent] = Explanation(
                latent=record.latent,
                text=None,
                raw=both,
                error=error,
                error_kind=UNPARSEABLE,
                cost=cost,
            )
            for unusable in (first, second_request):  # not cached: the next run asks again
                service.evict(unusable)
        else:
            out[record.latent] = rules_explanation(record.latent, parsed, both, cost)
    return [out[r.latent] for r in records]
