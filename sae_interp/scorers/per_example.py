"""Per-example judging for detection and fuzzing: one excerpt per request, answered Yes or
No, and scored by P(Yes) / (P(Yes) + P(No)) from the first answer token's log-probs (AUROC).

Small judges answer single questions far better than 0/1 lists, whose answers drift towards
the demo's list and depend on the slot in the batch. The outcome and metrics are the shared
judge's (:class:`~sae_interp.scorers.judge.JudgeOutcome`), with one "batch" per example: an
answer that is neither Yes nor No counts as failed and is excluded from the metrics.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from sae_interp.activations.records import LatentRecord
from sae_interp.llm.errors import LLMError
from sae_interp.llm.service import LLMService
from sae_interp.llm.types import ChatMessage, LLMRequest, LLMResponse
from sae_interp.scorers import judge
from sae_interp.scorers.base import JudgeScorer, ScoreItem
from sae_interp.scorers.judge import JudgeOutcome, JudgePlan, JudgeSettings, Shown
from sae_interp.scorers.per_example_prompts import NO, YES, PerExamplePrompts

MAX_ANSWER_TOKENS = 3


def build_request(
    prompts: PerExamplePrompts, explanation: str, text: str, settings: JudgeSettings
) -> LLMRequest:
    messages = [ChatMessage(role="system", content=prompts.system)]
    for demo_explanation, demo_text, answer in prompts.demos:
        messages += [
            ChatMessage(role="user", content=prompts.user_message(demo_explanation, demo_text)),
            ChatMessage(role="assistant", content=answer),
        ]
    messages.append(ChatMessage(role="user", content=prompts.user_message(explanation, text)))
    return LLMRequest(
        messages=tuple(messages),
        max_tokens=min(settings.max_tokens, MAX_ANSWER_TOKENS),
        top_logprobs=settings.top_logprobs,
    )


def parse_yes_no(text: str) -> int | None:
    """1 for an answer starting with Yes, 0 for No (case and punctuation ignored), else None."""
    words = text.strip().strip("\"'*.").split()
    first = words[0].strip(".,!:;\"'*").lower() if words else ""
    return {YES.lower(): 1, NO.lower(): 0}.get(first)


def yes_probability(response: LLMResponse) -> float | None:
    """P(Yes) / (P(Yes) + P(No)) at the first answer token that is Yes or No, from the top
    log-probs; None without log-probs or when neither word is among the alternatives."""
    for item in response.logprobs or []:
        alternatives: dict[int, float] = {}
        for token, logprob in {**item.top, item.token: item.logprob}.items():
            label = parse_yes_no(token)
            if label is not None:
                alternatives[label] = max(alternatives.get(label, -math.inf), logprob)
        if parse_yes_no(item.token) is None and not alternatives:
            continue
        p_yes = math.exp(alternatives.get(1, -math.inf))
        p_no = math.exp(alternatives.get(0, -math.inf))
        return p_yes / (p_yes + p_no) if p_yes + p_no > 0 else None
    return None


def plan_examples(
    latent: int,
    explanation: str,
    shown: Sequence[Shown],
    prompts: PerExamplePrompts,
    settings: JudgeSettings,
    seed: int,
) -> JudgePlan:
    """The examples in the same seeded order as batched judging, one request each."""
    batches = judge.shuffle_in_batches(shown, seed, latent, 1)
    requests = [build_request(prompts, explanation, b[0].text, settings) for b in batches]
    return JudgePlan(latent, explanation, batches, requests)


def read_yes_no(
    answer: LLMResponse | LLMError, n: int
) -> tuple[list[int | None], list[float | None], str | None]:
    """One example's label and P(Yes); an answer that is neither Yes nor No is a failure."""
    if isinstance(answer, LLMError):
        return [None], [None], str(answer)
    label = parse_yes_no(answer.text)
    if label is None:
        return [None], [None], "the answer is neither Yes nor No"
    return [label], [yes_probability(answer)], None


def run_plans(plans: Sequence[JudgePlan], service: LLMService) -> list[JudgeOutcome]:
    """The shared judge loop, one example per request, answers read as Yes / No."""
    return judge.run_plans(plans, service, read=read_yes_no, validator=lambda n: None)


class PerExampleScorer(JudgeScorer):
    """Detection or fuzzing judged one example per request (``shown`` gives the examples
    of a record; ``prompts`` says what is asked)."""

    def __init__(
        self,
        tokenizer: Any,
        service: LLMService | None,
        settings: JudgeSettings,
        seed: int,
        shown: Callable[[LatentRecord], list[Shown]],
        prompts: PerExamplePrompts,
    ) -> None:
        super().__init__(tokenizer, service, seed)
        self.settings = settings
        self.shown = shown
        self.prompts = prompts

    def plan(self, item: ScoreItem) -> JudgePlan:
        shown = self.shown(item.record)
        return plan_examples(
            item.record.latent, item.explanation, shown, self.prompts, self.settings, self.seed
        )

    def score(self, items: Sequence[ScoreItem]) -> list[Any]:
        if self.service is None:
            raise RuntimeError("this scorer was built for planning only (no LLM service)")
        return run_plans([self.plan(item) for item in items], self.service)
