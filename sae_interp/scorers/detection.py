"""Detection scoring: can a judge tell activating from non-activating windows given only
the explanation? Windows are shown without highlights, shuffled, in small batches; the judge
answers a 0/1 list. A batch whose answer cannot be parsed counts as failed, its examples get
no prediction, and it is excluded from the metrics (and reported)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from sae_interp.activations.records import LatentRecord, Window
from sae_interp.core.config import FrozenModel
from sae_interp.explainers.formatting import plain_text
from sae_interp.llm.errors import LLMError
from sae_interp.llm.service import LLMService
from sae_interp.llm.types import ChatMessage, LLMRequest, LLMResponse
from sae_interp.scorers import detection_prompts as prompts
from sae_interp.scorers import metrics
from sae_interp.scorers.judgements import label_probabilities, parse_labels


class DetectionSettings(FrozenModel):
    mode: Literal["batched", "saebench"] = Field(
        default="batched",
        description="'batched': 0/1 per window in small batches (metrics + AUROC); 'saebench': "
        "SAEBench's single prompt of 14 windows, indices listed, accuracy.",
    )
    n_examples_per_prompt: int = Field(default=5, gt=0, description="Windows per judge prompt.")
    top_logprobs: int = Field(
        default=5, ge=0, le=20, description="Ask for log-probs (0 = off) to score by P('1')."
    )
    max_tokens: int = Field(default=40, gt=0)


class ShownExample(BaseModel):
    seq: int
    start: int
    label: int  # 1 = activating window
    quantile_bin: int | None = None


class DetectionOutcome(BaseModel):
    """Everything shown and answered for one latent and one explanation (auditable)."""

    latent: int
    explanation: str
    examples: list[ShownExample]
    predictions: list[int | None]
    probabilities: list[float | None]
    raw_answers: list[str | None]
    batch_errors: list[str | None]


class DetectionMetrics(BaseModel):
    n_examples: int
    n_scored: int
    failed_batch_fraction: float
    balanced_accuracy: float
    f1: float
    precision: float
    recall: float
    auroc: float | None = Field(description="From P('1') when log-probs were available.")
    recall_by_quantile: dict[int, float]


def arrange(record: LatentRecord, seed: int, per_prompt: int) -> list[list[tuple[Window, int]]]:
    """Test windows (label 1) and negatives (label 0), shuffled with a fixed seed, batched."""
    items = [(w, 1) for w in record.test] + [(w, 0) for w in record.negatives]
    order = np.random.default_rng([seed, record.latent, 7]).permutation(len(items))
    shuffled = [items[i] for i in order]
    return [shuffled[i : i + per_prompt] for i in range(0, len(shuffled), per_prompt)]


def build_request(
    explanation: str, texts: Sequence[str], settings: DetectionSettings
) -> LLMRequest:
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
class DetectionPlan:
    """The prompts for one latent and one explanation, before any call is made."""

    record: LatentRecord
    explanation: str
    batches: list[list[tuple[Window, int]]]
    requests: list[LLMRequest]


def plan_latent(
    record: LatentRecord,
    explanation: str,
    tokenizer: Any,
    settings: DetectionSettings,
    seed: int,
) -> DetectionPlan:
    batches = arrange(record, seed, settings.n_examples_per_prompt)
    requests = [
        build_request(
            explanation, [plain_text(w.str_tokens(tokenizer)) for w, _ in batch], settings
        )
        for batch in batches
    ]
    return DetectionPlan(record, explanation, batches, requests)


def read_outcome(
    plan: DetectionPlan, answers: Sequence[LLMResponse | LLMError]
) -> DetectionOutcome:
    outcome = DetectionOutcome(
        latent=plan.record.latent,
        explanation=plan.explanation,
        examples=[],
        predictions=[],
        probabilities=[],
        raw_answers=[],
        batch_errors=[],
    )
    for batch, answer in zip(plan.batches, answers, strict=True):
        outcome.examples += [
            ShownExample(seq=w.seq, start=w.start, label=y, quantile_bin=w.quantile_bin)
            for w, y in batch
        ]
        labels, probs, error = _read(answer, len(batch))
        outcome.predictions += labels
        outcome.probabilities += probs
        outcome.raw_answers.append(answer.text if isinstance(answer, LLMResponse) else None)
        outcome.batch_errors.append(error)
    return outcome


def run_plans(plans: Sequence[DetectionPlan], service: LLMService) -> list[DetectionOutcome]:
    """All plans' requests in one pass through the LLM layer (up to its concurrency)."""
    flat = [request for plan in plans for request in plan.requests]
    answers = service.complete_all(flat)
    outcomes, start = [], 0
    for plan in plans:
        outcomes.append(read_outcome(plan, answers[start : start + len(plan.requests)]))
        start += len(plan.requests)
    return outcomes


def score_latent(
    record: LatentRecord,
    explanation: str,
    tokenizer: Any,
    service: LLMService,
    settings: DetectionSettings,
    seed: int,
) -> DetectionOutcome:
    return run_plans([plan_latent(record, explanation, tokenizer, settings, seed)], service)[0]


def _read(
    answer: LLMResponse | LLMError, n: int
) -> tuple[list[int | None], list[float | None], str | None]:
    if isinstance(answer, LLMError):
        return [None] * n, [None] * n, str(answer)
    labels = parse_labels(answer.text, n)
    if labels is None:
        return [None] * n, [None] * n, f"no list of {n} 0/1 labels in the answer"
    probs = label_probabilities(answer, n)
    return list(labels), list(probs) if probs is not None else [None] * n, None


def detection_metrics(outcome: DetectionOutcome) -> DetectionMetrics:
    scored = [i for i, p in enumerate(outcome.predictions) if p is not None]
    labels = [outcome.examples[i].label for i in scored]
    preds = [int(outcome.predictions[i]) for i in scored]  # type: ignore[arg-type]
    probs = [outcome.probabilities[i] for i in scored]
    has_probs = bool(scored) and all(p is not None for p in probs)
    n_batches = len(outcome.batch_errors)
    return DetectionMetrics(
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
