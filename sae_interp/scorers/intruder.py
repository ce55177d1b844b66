"""Intruder detection (explanation-free): the judge sees ``n`` activating windows of a latent
and one activating window of another latent, in a seeded random order, and names the
intruder. It measures how coherent a latent's windows are without any explanation, so no
explainer can bias it. Chance is 1 / (n + 1).

Each latent gets ``n_rounds`` rounds with different windows (its test windows, shuffled
with the seed, taken in turn) and a different intruder latent (drawn from the other usable
latents of the run). The intruder window is not checked for activity of the latent itself
(as in delphi); with token-level highlights, only its marked tokens come from the other
latent.

**Position debiasing.** A small judge names a position more than an excerpt (the offline
judge named the last excerpt in every round). So each round is shown once per position
(``rotate``): the n + 1 excerpts are rotated cyclically, and every excerpt, the intruder
included, takes every position exactly once. The judge's preference for a position then
weighs on every excerpt equally. With log-probs, an excerpt's score is the mean over the
rotations of the log-probability of its number, which is the judge's log-probability with
its position prior divided out (the permutation-based prior estimate of Zheng et al.,
"Large Language Models Are Not Robust Multiple Choice Selectors", ICLR 2024, on cyclic
permutations); without log-probs, the excerpt named in most rotations. A judge that always
names the same position thus scores exactly chance, and one that knows the intruder scores
1. The debiased accuracy is the headline; the raw accuracy (one presentation, one answer)
and the probabilities are reported beside it.
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
    n_rounds: int = Field(
        default=1, gt=0, description="Rounds (each its own intruder and windows) per latent."
    )
    rotate: bool = Field(
        default=True,
        description="Show each round once per position, its excerpts rotated so that each "
        "takes every position once, and score it with the judge's position preference "
        "cancelled (n_activating + 1 prompts per round); off: one prompt per round, raw.",
    )
    highlight: bool = Field(default=True, description="Mark each window's activating tokens.")
    top_logprobs: int = Field(
        default=5, ge=0, le=20, description="Ask for log-probs (0 = off): P(right number)."
    )
    max_tokens: int = Field(default=5, gt=0)


class IntruderRound(BaseModel):
    """One prompt: a round's excerpts in the order shown and what the judge answered."""

    round: int = Field(default=0, description="Which round of the latent (rotations share it).")
    windows: list[tuple[int, int]] = Field(description="(seq, start) of each excerpt shown.")
    intruder_latent: int
    intruder_position: int = Field(description="1-based number of the intruder excerpt.")
    answer: int | None = None
    p_correct: float | None = None
    option_probs: list[float] | None = Field(
        default=None, description="P(each number), normalised over 1..n; None without log-probs."
    )
    raw_answer: str | None = None
    error: str | None = None


class IntruderOutcome(BaseModel):
    latent: int
    rounds: list[IntruderRound]


class IntruderMetrics(BaseModel):
    n_rounds: int
    n_answered: int = Field(description="Prompts answered (rotations count one each).")
    accuracy: float = pooled(
        "Rounds whose intruder the judge picks with its position preference cancelled (a "
        "tie between k excerpts counts 1/k); the raw accuracy without rotations."
    )
    raw_accuracy: float = pooled("Fraction of answered prompts naming the intruder.")
    p_correct: float | None = pooled(
        "Debiased probability of the intruder, mean over rounds (needs log-probs)."
    )
    raw_p_correct: float | None = pooled("Mean probability on the right number, per prompt.")
    chance: float = pooled("Mean of 1 / (windows per prompt).")
    answered_last: float = pooled(
        "Fraction of answers naming the last excerpt (the judge's position habit).",
        bookkeeping=True,
    )
    failed_fraction: float = pooled("Prompts whose answer could not be read.", bookkeeping=True)


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


Presentation = tuple[list[Window], int, int, int]  # windows shown, intruder latent, position, round


def presentations(
    record: LatentRecord, pool: Mapping[int, LatentRecord], settings: IntruderSettings, seed: int
) -> list[Presentation]:
    """Every prompt of a latent: each round (:func:`plan_rounds`) once, or with ``rotate``
    once per cyclic rotation of its excerpts, so the intruder takes every position."""
    out = []
    for index, (windows, other, position) in enumerate(plan_rounds(record, pool, settings, seed)):
        n = len(windows)
        for shift in range(n if settings.rotate else 1):
            rotated = windows[shift:] + windows[:shift]
            out.append((rotated, other, (position - 1 - shift) % n + 1, index))
    return out


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


def option_probabilities(response: LLMResponse, n: int) -> list[float] | None:
    """P(1), ..., P(n), normalised over the numbers among the first number token's top
    log-probs (a number outside them gets 0); None without log-probs."""
    for item in response.logprobs or []:
        options: dict[int, float] = {}
        for token, logprob in {**item.top, item.token: item.logprob}.items():
            value = parse_answer(token.strip(), n) if token.strip().isdigit() else None
            if value is not None:
                options[value] = max(options.get(value, -math.inf), logprob)
        if not options:
            continue
        total = sum(math.exp(v) for v in options.values())
        return [math.exp(options.get(k, -math.inf)) / total for k in range(1, n + 1)]
    return None


def probability_of(response: LLMResponse, correct: int, n: int) -> float | None:
    """P(correct) normalised over the numbers 1..n (see :func:`option_probabilities`)."""
    probs = option_probabilities(response, n)
    return probs[correct - 1] if probs is not None else None


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

    def _rounds(self, item: ScoreItem) -> list[Presentation]:
        return presentations(item.record, self.pool, self.settings, self.seed)

    def planned_requests(self, item: ScoreItem) -> list[LLMRequest]:
        return [
            build_request(
                [_text(w, self.tokenizer, self.settings.highlight) for w in ws], self.settings
            )
            for ws, _, _, _ in self._rounds(item)
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
            for (windows, other, position, index), answer in zip(
                rounds, answers[start : start + len(rounds)], strict=True
            ):
                outcome.rounds.append(read_round(windows, other, position, answer, index))
            start += len(rounds)
            outcomes.append(outcome)
        return outcomes

    def metrics(self, outcome: IntruderOutcome) -> IntruderMetrics:
        return intruder_metrics(outcome)


def read_round(
    windows: Sequence[Window],
    other: int,
    position: int,
    answer: LLMResponse | LLMError,
    index: int = 0,
) -> IntruderRound:
    """One prompt's record: ``windows`` as shown, the intruder latent ``other`` at the
    1-based ``position``, the judge's ``answer``, and the round ``index`` it belongs to."""
    result = IntruderRound(
        round=index,
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
        result.option_probs = option_probabilities(answer, len(windows))
        if result.option_probs is not None:
            result.p_correct = result.option_probs[position - 1]
    return result


def debiased_round(prompts: Sequence[IntruderRound]) -> tuple[float, float | None]:
    """(credit, P(intruder)) of one round from its answered prompts (its rotations): each
    excerpt's score is the mean log-probability of its number over the prompts, so the
    judge's position prior, the same for every excerpt across a full rotation, cancels;
    without log-probs, the number of prompts naming it. Credit is 1/k when the intruder is
    among k excerpts tied for the top score, else 0; P(intruder) is the softmax of the
    scores (None without log-probs). (nan, None) when no prompt was answered."""
    answered = [p for p in prompts if p.answer is not None]
    if not answered:
        return math.nan, None
    intruder = tuple(answered[0].windows[answered[0].intruder_position - 1])
    scores: dict[tuple[int, int], list[float]] = {}
    with_probs = all(p.option_probs is not None for p in answered)
    for p in answered:
        for position, window in enumerate(p.windows, 1):
            key = tuple(window)
            if with_probs:
                assert p.option_probs is not None
                value = math.log(max(p.option_probs[position - 1], 1e-12))
            else:
                value = float(p.answer == position)
            scores.setdefault(key, []).append(value)  # type: ignore[arg-type]
    reduce = np.mean if with_probs else np.sum
    content = {key: float(reduce(values)) for key, values in scores.items()}
    best = max(content.values())
    top = [key for key, value in content.items() if math.isclose(value, best, abs_tol=1e-9)]
    credit = 1.0 / len(top) if intruder in top else 0.0
    if not with_probs:
        return credit, None
    exp = {key: math.exp(value - best) for key, value in content.items()}
    return credit, exp[intruder] / sum(exp.values())  # type: ignore[index]


def intruder_metrics(outcome: IntruderOutcome) -> IntruderMetrics:
    """Debiased and raw accuracy and P(right number), over the answered prompts and their
    rounds (pure)."""
    prompts = outcome.rounds
    answered = [r for r in prompts if r.answer is not None]
    by_round: dict[int, list[IntruderRound]] = {}
    for r in prompts:
        by_round.setdefault(r.round, []).append(r)
    debiased = [debiased_round(group) for group in by_round.values()]
    credits = [c for c, _ in debiased if not math.isnan(c)]
    probs = [p for c, p in debiased if not math.isnan(c)]
    raw_probs = [r.p_correct for r in answered if r.p_correct is not None]
    n = len(prompts)
    return IntruderMetrics(
        n_rounds=len(by_round),
        n_answered=len(answered),
        accuracy=sum(credits) / len(credits) if credits else math.nan,
        raw_accuracy=sum(r.answer == r.intruder_position for r in answered) / len(answered)
        if answered
        else math.nan,
        p_correct=sum(probs) / len(probs)  # type: ignore[arg-type]
        if probs and all(p is not None for p in probs)
        else None,
        raw_p_correct=sum(raw_probs) / len(raw_probs)
        if raw_probs and len(raw_probs) == len(answered)
        else None,
        chance=sum(1.0 / len(r.windows) for r in prompts) / n if n else math.nan,
        answered_last=sum(r.answer == len(r.windows) for r in answered) / len(answered)
        if answered
        else math.nan,
        failed_fraction=(n - len(answered)) / n if n else math.nan,
    )
