"""Intruder detection (explanation-free): the judge sees ``n`` activating windows of a latent
and one activating window of another latent, in a seeded random order, and names the
intruder. It measures how coherent a latent's windows are without any explanation, so no
explainer can bias it. Chance is 1 / (n + 1).

Each latent gets ``n_rounds`` prompts with different windows (its test windows, shuffled
with the seed, taken in turn) and a different intruder latent (drawn from the other usable
latents of the run). With log-probs, the probability the judge puts on the right number is
kept too. The intruder window is not checked for activity of the latent itself (as in
delphi); with token-level highlights, only its marked tokens come from the other latent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from sae_interp.activations.records import LatentRecord, RecordStatus, Window
from sae_interp.base import FrozenModel
from sae_interp.llm.errors import LLMError
from sae_interp.llm.service import LLMService
from sae_interp.llm.types import ChatMessage, LLMRequest, LLMResponse
from sae_interp.scorers import intruder_prompts as prompts
from sae_interp.scorers.base import ScoreItem
from sae_interp.stats import pooled
from sae_interp.text.formatting import highlighted_text, plain_text


class IntruderSettings(FrozenModel):
    n_activating: int = Field(default=4, gt=0, description="Windows of the latent per prompt.")
    n_rounds: int = Field(default=3, gt=0, description="Prompts (intruders) per latent.")
    highlight: bool = Field(default=True, description="Mark each window's activating tokens.")
    top_logprobs: int = Field(
        default=5, ge=0, le=20, description="Ask for log-probs (0 = off): P(right number)."
    )
    max_tokens: int = Field(default=5, gt=0)


class IntruderRound(BaseModel):
    windows: list[tuple[int, int]] = Field(description="(seq, start) of each excerpt shown.")
    intruder_latent: int
    intruder_position: int = Field(description="1-based number of the intruder excerpt.")
    answer: int | None = None
    p_correct: float | None = None
    raw_answer: str | None = None
    error: str | None = None


class IntruderOutcome(BaseModel):
    latent: int
    rounds: list[IntruderRound]


class IntruderMetrics(BaseModel):
    n_rounds: int
    n_answered: int
    accuracy: float = pooled("Fraction of answered rounds naming the intruder.")
    p_correct: float | None = pooled("Mean probability on the right number.")
    chance: float = pooled("Mean of 1 / (windows per prompt).")
    failed_fraction: float = pooled("Rounds whose answer could not be read.", bookkeeping=True)


def _text(window: Window, tokenizer: Any, highlight: bool) -> str:
    tokens = window.str_tokens(tokenizer)
    return highlighted_text(tokens, window.activations) if highlight else plain_text(tokens)


def build_request(texts: Sequence[str], settings: IntruderSettings) -> LLMRequest:
    system = prompts.SYSTEM_HIGHLIGHTED if settings.highlight else prompts.SYSTEM_PLAIN
    demo_user, demo_answer = prompts.DEMO_HIGHLIGHTED if settings.highlight else prompts.DEMO_PLAIN
    messages = (
        ChatMessage(role="system", content=system),
        ChatMessage(role="user", content=demo_user),
        ChatMessage(role="assistant", content=demo_answer),
        ChatMessage(role="user", content=prompts.user_message(texts)),
    )
    return LLMRequest(
        messages=messages, max_tokens=settings.max_tokens, top_logprobs=settings.top_logprobs
    )


def plan_rounds(
    record: LatentRecord, pool: Mapping[int, LatentRecord], settings: IntruderSettings, seed: int
) -> list[tuple[list[Window], int, int]]:
    """Per round: the windows in the order shown, the intruder latent and its 1-based
    position. Empty when the latent has no test windows or no other latent has any."""
    others = sorted(k for k, r in pool.items() if k != record.latent and r.test)
    if not record.test or not others:
        return []
    rng = np.random.default_rng([seed, record.latent, 23])
    order = [record.test[int(i)] for i in rng.permutation(len(record.test))]
    n = min(settings.n_activating, len(order))
    rounds = []
    for r in range(settings.n_rounds):
        own = [order[(r * n + j) % len(order)] for j in range(n)]
        other = others[int(rng.integers(len(others)))]
        intruder = pool[other].test[int(rng.integers(len(pool[other].test)))]
        position = int(rng.integers(n + 1))
        rounds.append(([*own[:position], intruder, *own[position:]], other, position + 1))
    return rounds


def parse_answer(text: str, n: int) -> int | None:
    """The first whole number in ``text`` if it is between 1 and ``n``."""
    match = re.search(r"\d+", text)
    value = int(match.group()) if match else None
    return value if value is not None and 1 <= value <= n else None


def probability_of(response: LLMResponse, correct: int, n: int) -> float | None:
    """P(correct) normalised over the numbers 1..n among the first number token's top
    log-probs; None without log-probs."""
    for item in response.logprobs or []:
        options: dict[int, float] = {}
        for token, logprob in {**item.top, item.token: item.logprob}.items():
            value = parse_answer(token.strip(), n) if token.strip().isdigit() else None
            if value is not None:
                options[value] = max(options.get(value, -math.inf), logprob)
        if not options:
            continue
        total = sum(math.exp(v) for v in options.values())
        return math.exp(options.get(correct, -math.inf)) / total
    return None


class IntruderScorer:
    """An explanation-free scorer: ``ScoreItem.explanation`` is ignored. ``pool`` holds the
    records intruders are drawn from (the run's usable latents)."""

    def __init__(
        self,
        tokenizer: Any,
        service: LLMService | None,
        settings: IntruderSettings,
        seed: int,
        pool: Mapping[int, LatentRecord],
    ) -> None:
        self.tokenizer = tokenizer
        self.service = service
        self.settings = settings
        self.seed = seed
        self.pool = {k: r for k, r in pool.items() if r.status == RecordStatus.ok}

    def _rounds(self, item: ScoreItem) -> list[tuple[list[Window], int, int]]:
        return plan_rounds(item.record, self.pool, self.settings, self.seed)

    def planned_requests(self, item: ScoreItem) -> list[LLMRequest]:
        return [
            build_request(
                [_text(w, self.tokenizer, self.settings.highlight) for w in ws], self.settings
            )
            for ws, _, _ in self._rounds(item)
        ]

    def score(self, items: Sequence[ScoreItem]) -> list[IntruderOutcome]:
        if self.service is None:
            raise RuntimeError("this scorer was built for planning only (no LLM service)")
        plans = [self._rounds(item) for item in items]
        requests = [r for item in items for r in self.planned_requests(item)]
        answers = self.service.complete_all(requests)
        outcomes, start = [], 0
        for item, rounds in zip(items, plans, strict=True):
            outcome = IntruderOutcome(latent=item.record.latent, rounds=[])
            for (windows, other, position), answer in zip(
                rounds, answers[start : start + len(rounds)], strict=True
            ):
                outcome.rounds.append(read_round(windows, other, position, answer))
            start += len(rounds)
            outcomes.append(outcome)
        return outcomes

    def metrics(self, outcome: IntruderOutcome) -> IntruderMetrics:
        return intruder_metrics(outcome)


def read_round(
    windows: Sequence[Window], other: int, position: int, answer: LLMResponse | LLMError
) -> IntruderRound:
    result = IntruderRound(
        windows=[(w.seq, w.start) for w in windows],
        intruder_latent=other,
        intruder_position=position,
    )
    if isinstance(answer, LLMError):
        result.error = str(answer)
        return result
    result.raw_answer = answer.text
    result.answer = parse_answer(answer.text, len(windows))
    if result.answer is None:
        result.error = f"no number from 1 to {len(windows)} in the answer"
    else:
        result.p_correct = probability_of(answer, position, len(windows))
    return result


def intruder_metrics(outcome: IntruderOutcome) -> IntruderMetrics:
    """Accuracy and mean P(right number) over the answered rounds (pure)."""
    answered = [r for r in outcome.rounds if r.answer is not None]
    probs = [r.p_correct for r in answered if r.p_correct is not None]
    n = len(outcome.rounds)
    return IntruderMetrics(
        n_rounds=n,
        n_answered=len(answered),
        accuracy=sum(r.answer == r.intruder_position for r in answered) / len(answered)
        if answered
        else math.nan,
        p_correct=sum(probs) / len(probs) if probs and len(probs) == len(answered) else None,
        chance=sum(1.0 / len(r.windows) for r in outcome.rounds) / n if n else math.nan,
        failed_fraction=(n - len(answered)) / n if n else math.nan,
    )
