"""Per-example judging for detection and fuzzing: one excerpt per request, scored by the
answer's probability from the first answer token's log-probs (AUROC).

Small judges answer single questions far better than 0/1 lists, whose answers drift towards
the demo's list and depend on the slot in the batch. What is asked and how the answer is
read come from the prompts (:mod:`sae_interp.scorers.per_example_prompts`): Yes/No, scored
by P(Yes) / (P(Yes) + P(No)), or the matching words, scored by 1 - P("None"). The outcome
and metrics are the shared judge's (:class:`~sae_interp.scorers.judge.JudgeOutcome`), with
one "batch" per example: an unreadable answer counts as failed and is excluded from the
metrics.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sae_interp.activations.records import LatentRecord
from sae_interp.base.registry import Registry
from sae_interp.llm.errors import LLMError
from sae_interp.llm.service import LLMService
from sae_interp.llm.types import ChatMessage, LLMRequest, LLMResponse
from sae_interp.scorers import judge
from sae_interp.scorers.base import JudgeScorer, ScoreItem
from sae_interp.scorers.judge import JudgeOutcome, JudgePlan, JudgeSettings, Shown
from sae_interp.scorers.per_example_prompts import NO, NONE, YES, PerExamplePrompts

MAX_ANSWER_TOKENS = 3  # Yes/No, or the first matching word (its tokens); every token costs
# llama-cpp-python a sort of the whole vocabulary for its top log-probs
NO_MATCH = frozenset({NONE.lower(), "no", "nothing"})


def _first_word(text: str) -> str:
    words = text.strip().strip("\"'*.").split()
    return words[0].strip(".,!:;\"'*").lower() if words else ""


def parse_yes_no(text: str) -> int | None:
    """1 for an answer starting with Yes, 0 for No (case and punctuation ignored), else None."""
    return {YES.lower(): 1, NO.lower(): 0}.get(_first_word(text))


def parse_matches(text: str) -> int | None:
    """0 for an answer saying nothing matches ("None", "No ...", "Nothing"), 1 for one that
    names words, None for an empty answer."""
    first = _first_word(text)
    if not first:
        return None
    return 0 if first in NO_MATCH else 1


def _first_answer_alternatives(
    response: LLMResponse, label: Callable[[str], int | None]
) -> dict[int, float] | None:
    """Log-prob of each label among the alternatives at the first answer token that has a
    label (or whose alternatives do); None without log-probs or any labelled token."""
    for item in response.logprobs or []:
        alternatives: dict[int, float] = {}
        for token, logprob in {**item.top, item.token: item.logprob}.items():
            found = label(token)
            if found is not None:
                alternatives[found] = max(alternatives.get(found, -math.inf), logprob)
        if label(item.token) is None and not alternatives:
            continue
        return alternatives
    return None


def yes_probability(response: LLMResponse) -> float | None:
    """P(Yes) / (P(Yes) + P(No)) at the first answer token that is Yes or No, from the top
    log-probs; None without log-probs or when neither word is among the alternatives."""
    alternatives = _first_answer_alternatives(response, parse_yes_no)
    if alternatives is None:
        return None
    p_yes = math.exp(alternatives.get(1, -math.inf))
    p_no = math.exp(alternatives.get(0, -math.inf))
    return p_yes / (p_yes + p_no) if p_yes + p_no > 0 else None


def _no_match_token(token: str) -> int | None:
    return 0 if _first_word(token) in NO_MATCH else None


def match_probability(response: LLMResponse) -> float | None:
    """1 - P(a no-match word) at the first answer token, from the top log-probs (a
    no-match word absent from the alternatives counts as probability 0); None without
    log-probs."""
    items = response.logprobs or []
    if not items:
        return None
    first = items[0]
    no_match = [
        logprob
        for token, logprob in {**first.top, first.token: first.logprob}.items()
        if _no_match_token(token) is not None
    ]
    return 1.0 - math.exp(max(no_match)) if no_match else 1.0


@dataclass(frozen=True)
class AnswerReader:
    """How a per-example answer is read: its label, and its probability of label 1."""

    label: Callable[[str], int | None]
    probability: Callable[[LLMResponse], float | None]
    unreadable: str


ANSWER_READERS: Registry[AnswerReader] = Registry("per-example answer")
ANSWER_READERS.register(
    "yes_no", AnswerReader(parse_yes_no, yes_probability, "the answer is neither Yes nor No")
)
ANSWER_READERS.register(
    "matches", AnswerReader(parse_matches, match_probability, "the answer is empty")
)


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


def reader_for(prompts: PerExamplePrompts) -> Callable[..., Any]:
    """The plan reader of ``prompts``' answers: one example's label and probability; an
    unreadable answer is a failure."""
    reader = ANSWER_READERS.get(prompts.answer)

    def read(
        answer: LLMResponse | LLMError, n: int
    ) -> tuple[list[int | None], list[float | None], str | None]:
        if isinstance(answer, LLMError):
            return [None], [None], str(answer)
        label = reader.label(answer.text)
        if label is None:
            return [None], [None], reader.unreadable
        return [label], [reader.probability(answer)], None

    return read


def run_plans(
    plans: Sequence[JudgePlan], service: LLMService, prompts: PerExamplePrompts
) -> list[JudgeOutcome]:
    """The shared judge loop, one example per request, answers read as ``prompts`` say."""
    return judge.run_plans(plans, service, read=reader_for(prompts), validator=lambda n: None)


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
        return run_plans([self.plan(item) for item in items], self.service, self.prompts)
