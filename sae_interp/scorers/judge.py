"""Batched 0/1 judging, shared by detection and fuzzing.

Examples (each with the text shown and its true label) are shuffled with a fixed seed and
sent in small batches; the judge answers a list of 0/1 labels per batch. A batch whose answer
cannot be parsed counts as failed: its examples get no prediction and are excluded from the
metrics (and reported). With log-probs, each example also gets P("1")."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, Field, field_validator

from sae_interp.activations.records import Window
from sae_interp.base import FrozenModel
from sae_interp.base.registry import Registry
from sae_interp.llm.errors import LLMError
from sae_interp.llm.service import LLMService, Validator
from sae_interp.llm.types import ChatMessage, LLMRequest, LLMResponse
from sae_interp.scorers import metrics
from sae_interp.stats import pooled


def resolved_mode(mode: str, llm_backend: str, offline: str = "per_example") -> str:
    """The one place where a judge mode's ``auto`` is resolved: ``offline`` (one window per
    request) for the offline LLM (``local``), whose small judge recovers the planted
    suite's known answers that way; the published ``batched`` with any endpoint. Detection
    and fuzzing both resolve here."""
    if mode != "auto":
        return mode
    return offline if llm_backend == "local" else "batched"


class JudgeSettings(FrozenModel):
    """Settings of a judge scorer. A scorer with several modes declares a ``mode`` field and
    the registry of its modes in ``MODES``; the mode is checked against it (or ``auto``)."""

    MODES: ClassVar[Registry[Any] | None] = None

    n_examples_per_prompt: int = Field(default=5, gt=0, description="Windows per judge prompt.")
    top_logprobs: int = Field(
        default=5, ge=0, le=20, description="Ask for log-probs (0 = off) to score by P('1')."
    )
    max_tokens: int = Field(default=40, gt=0)

    @field_validator("mode", check_fields=False)
    @classmethod
    def _known_mode(cls, value: str) -> str:
        return cls.MODES.validate(value, "auto") if cls.MODES is not None else value


@dataclass(frozen=True)
class Shown:
    """One example as the judge sees it."""

    window: Window
    label: int  # the right answer
    text: str
    highlighted: tuple[int, ...] = ()  # positions marked in the text (fuzzing)


class ShownExample(BaseModel):
    seq: int
    start: int
    label: int
    quantile_bin: int | None = None
    highlighted: list[int] | None = None


class JudgeOutcome(BaseModel):
    """Everything shown and answered for one latent and one explanation (auditable)."""

    latent: int
    explanation: str
    examples: list[ShownExample]
    predictions: list[int | None]
    probabilities: list[float | None]
    raw_answers: list[str | None]
    batch_errors: list[str | None]


class JudgeMetrics(BaseModel):
    n_examples: int
    n_scored: int
    failed_batch_fraction: float = pooled(
        "Batches whose answer could not be read.", bookkeeping=True
    )
    balanced_accuracy: float = pooled("(TPR + TNR) / 2 over the examples answered.")
    f1: float = pooled("F1 of the 1 answers; undefined (NaN) when there are none.")
    precision: float = pooled("Precision of the 1 answers; undefined with none.")
    recall: float = pooled("Recall of the activating examples.")
    auroc: float | None = pooled("From P('1') when log-probs were available.")
    recall_by_quantile: dict[int, float]


def shuffle_in_batches(
    items: Sequence[Shown], seed: int, latent: int, per_prompt: int
) -> list[list[Shown]]:
    """A seeded shuffle (per latent), cut into batches of ``per_prompt``."""
    order = np.random.default_rng([seed, latent, 7]).permutation(len(items))
    shuffled = [items[i] for i in order]
    return [shuffled[i : i + per_prompt] for i in range(0, len(shuffled), per_prompt)]


def build_request(
    prompts: ModuleType, explanation: str, texts: Sequence[str], settings: JudgeSettings
) -> LLMRequest:
    """System prompt, the prompt module's few-shot demos, then the excerpts to judge."""
    messages = [ChatMessage(role="system", content=prompts.SYSTEM)]
    for user, answer in prompts.DEMOS:
        messages += [
            ChatMessage(role="user", content=user),
            ChatMessage(role="assistant", content=answer),
        ]
    messages.append(ChatMessage(role="user", content=prompts.user_message(explanation, texts)))
    return LLMRequest(
        messages=tuple(messages), max_tokens=settings.max_tokens, top_logprobs=settings.top_logprobs
    )


@dataclass
class JudgePlan:
    """The prompts for one latent and one explanation, before any call is made."""

    latent: int
    explanation: str
    batches: list[list[Shown]]
    requests: list[LLMRequest]


def plan_judgements(
    latent: int,
    explanation: str,
    shown: Sequence[Shown],
    prompts: ModuleType,
    settings: JudgeSettings,
    seed: int,
) -> JudgePlan:
    batches = shuffle_in_batches(shown, seed, latent, settings.n_examples_per_prompt)
    requests = [
        build_request(prompts, explanation, [s.text for s in batch], settings) for batch in batches
    ]
    return JudgePlan(latent, explanation, batches, requests)


# reads one answer to a batch of n examples: (labels, probabilities, error)
BatchAnswerReader = Callable[
    [LLMResponse | LLMError, int], tuple[list[int | None], list[float | None], str | None]
]


def read_outcome(
    plan: JudgePlan,
    answers: Sequence[LLMResponse | LLMError],
    read: BatchAnswerReader | None = None,
) -> JudgeOutcome:
    """The outcome of ``plan`` from its answers (one per batch), each read by ``read``
    (the 0/1-list reader by default)."""
    read = read or _read
    outcome = JudgeOutcome(
        latent=plan.latent,
        explanation=plan.explanation,
        examples=[],
        predictions=[],
        probabilities=[],
        raw_answers=[],
        batch_errors=[],
    )
    for batch, answer in zip(plan.batches, answers, strict=True):
        outcome.examples += [
            ShownExample(
                seq=s.window.seq,
                start=s.window.start,
                label=s.label,
                quantile_bin=s.window.quantile_bin if s.label else None,
                highlighted=list(s.highlighted) if s.highlighted else None,
            )
            for s in batch
        ]
        labels, probs, error = read(answer, len(batch))
        outcome.predictions += labels
        outcome.probabilities += probs
        outcome.raw_answers.append(answer.text if isinstance(answer, LLMResponse) else None)
        outcome.batch_errors.append(error)
    return outcome


def run_plans(
    plans: Sequence[JudgePlan],
    service: LLMService,
    read: BatchAnswerReader | None = None,
    validator: Callable[[int], Validator | None] | None = None,
) -> list[JudgeOutcome]:
    """All plans' requests in one pass through the LLM layer (up to its concurrency); by
    default answers are 0/1 lists, checked (an unreadable one is asked again, never cached)
    and read as such."""
    requests = [request for plan in plans for request in plan.requests]
    sizes = [len(batch) for plan in plans for batch in plan.batches]
    validator = validator or labels_validator
    answers = service.complete_all(requests, validate=[validator(n) for n in sizes])
    outcomes, start = [], 0
    for plan in plans:
        outcomes.append(read_outcome(plan, answers[start : start + len(plan.requests)], read))
        start += len(plan.requests)
    return outcomes


def labels_validator(n: int) -> Validator:
    """Rejects an answer without a list of ``n`` labels (asked again, never cached)."""

    def check(answer: LLMResponse) -> str | None:
        return None if parse_labels(answer.text, n) is not None else _no_labels(n)

    return check


def _no_labels(n: int) -> str:
    return f"no list of {n} 0/1 labels in the answer"


def _read(
    answer: LLMResponse | LLMError, n: int
) -> tuple[list[int | None], list[float | None], str | None]:
    if isinstance(answer, LLMError):
        return [None] * n, [None] * n, str(answer)
    labels = parse_labels(answer.text, n)
    if labels is None:
        return [None] * n, [None] * n, _no_labels(n)
    probs = label_probabilities(answer, n)
    return list(labels), list(probs) if probs is not None else [None] * n, None


def judge_metrics(outcome: JudgeOutcome) -> JudgeMetrics:
    scored = [i for i, p in enumerate(outcome.predictions) if p is not None]
    labels = [outcome.examples[i].label for i in scored]
    preds = [int(outcome.predictions[i]) for i in scored]  # type: ignore[arg-type]
    probs = [outcome.probabilities[i] for i in scored]
    has_probs = bool(scored) and all(p is not None for p in probs)
    n_batches = len(outcome.batch_errors)
    return JudgeMetrics(
        n_examples=len(outcome.examples),
        n_scored=len(scored),
        failed_batch_fraction=sum(e is not None for e in outcome.batch_errors) / n_batches
        if n_batches
        else math.nan,
        balanced_accuracy=metrics.balanced_accuracy(labels, preds),
        f1=metrics.f1(labels, preds),
        precision=metrics.precision(labels, preds),
        recall=metrics.recall(labels, preds),
        auroc=metrics.auroc(labels, probs) if has_probs else None,  # type: ignore[arg-type]
        recall_by_quantile=metrics.recall_by_group(
            labels, preds, [outcome.examples[i].quantile_bin for i in scored]
        ),
    )


_LIST = re.compile(r"\[\s*([01](?:\s*,\s*[01])*)\s*\]")


def parse_labels(text: str, n: int) -> list[int] | None:
    """The last bracketed list of 0/1 in ``text`` if it has exactly ``n`` items, else None."""
    matches = _LIST.findall(text)
    if not matches:
        return None
    labels = [int(v) for v in re.findall(r"[01]", matches[-1])]
    return labels if len(labels) == n else None


def label_probabilities(response: LLMResponse, n: int) -> list[float] | None:
    """P("1") / (P("0") + P("1")) at each of the first ``n`` 0/1 tokens of the answer, from
    the top log-probs; None when the backend gave no log-probs or too few label tokens."""
    if not response.logprobs:
        return None
    probs: list[float] = []
    for item in response.logprobs:
        if item.token.strip() not in ("0", "1"):
            continue
        alternatives: dict[str, float] = {}
        for token, logprob in {**item.top, item.token: item.logprob}.items():
            key = token.strip()
            if key in ("0", "1"):
                alternatives[key] = max(alternatives.get(key, -math.inf), logprob)
        p1 = math.exp(alternatives.get("1", -math.inf))
        p0 = math.exp(alternatives.get("0", -math.inf))
        probs.append(p1 / (p0 + p1))
        if len(probs) == n:
            return probs
    return None
