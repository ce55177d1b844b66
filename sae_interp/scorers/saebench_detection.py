"""SAEBench-compatible detection: 14 examples in one prompt (the 2 strongest test windows,
2 importance-weighted ones, 10 random non-activating windows), the judge lists the indices
it believes activate, and the score is the fraction of the 14 classified correctly. Kept so
that numbers compare with SAEBench; the batched 0/1 mode is the default."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel

from sae_interp.activations.records import LatentRecord, Window
from sae_interp.llm.errors import LLMError
from sae_interp.llm.service import LLMService, Validator
from sae_interp.llm.types import ChatMessage, LLMRequest, LLMResponse
from sae_interp.scorers import saebench_prompts as prompts
from sae_interp.scorers.base import ScoreItem
from sae_interp.stats import pooled
from sae_interp.text.formatting import plain_text

N_TOP, N_IMPORTANCE, N_RANDOM = 2, 2, 10


class SaeBenchOutcome(BaseModel):
    latent: int
    explanation: str
    labels: list[int]  # in shown order
    shown: list[tuple[int, int]]  # (seq, start) in shown order
    predicted_indices: list[int] | None  # 1-based, None when the answer could not be read
    raw_answer: str | None
    error: str | None
    accuracy: float | None


def choose_examples(record: LatentRecord, seed: int) -> list[tuple[Window, int]]:
    """2 top + 2 importance-weighted (prob. proportional to max activation squared) activating
    windows from the record's test set, and 10 random negatives; shuffled with the seed."""
    rng = np.random.default_rng([seed, record.latent, 13])
    ranked = sorted(record.test, key=lambda w: w.max_activation, reverse=True)
    top, rest = ranked[:N_TOP], ranked[N_TOP:]
    weights = np.array([w.max_activation**2 for w in rest], dtype=np.float64)
    n_iw = min(N_IMPORTANCE, int(np.count_nonzero(weights)))
    picked: list[int] = []
    if n_iw:
        probs = weights / weights.sum()
        picked = [int(i) for i in rng.choice(len(rest), size=n_iw, replace=False, p=probs)]
    negatives = list(record.negatives)
    chosen_neg = rng.choice(len(negatives), size=min(N_RANDOM, len(negatives)), replace=False)
    items = (
        [(w, 1) for w in top]
        + [(rest[i], 1) for i in picked]
        + [(negatives[i], 0) for i in chosen_neg]
    )
    return [items[i] for i in rng.permutation(len(items))]


def build_request(explanation: str, texts: Sequence[str], max_tokens: int = 60) -> LLMRequest:
    return LLMRequest(
        messages=(
            ChatMessage(role="system", content=prompts.SYSTEM),
            ChatMessage(role="user", content=prompts.user_message(explanation, texts)),
        ),
        max_tokens=max_tokens,
    )


def parse_indices(text: str, n: int) -> list[int] | None:
    """1-based indices from 'None' or a comma-separated list; None if unreadable/out of range."""
    answer = text.strip().splitlines()[-1].strip() if text.strip() else ""
    if re.fullmatch(r"(?i)none\.?", answer):
        return []
    if not re.fullmatch(r"\d+(\s*,\s*\d+)*\.?", answer):
        return None
    indices = sorted({int(v) for v in re.findall(r"\d+", answer)})
    return indices if all(1 <= i <= n for i in indices) else None


def plan(
    record: LatentRecord, explanation: str, tokenizer: Any, seed: int
) -> tuple[list[tuple[Window, int]], LLMRequest]:
    examples = choose_examples(record, seed)
    texts = [plain_text(w.str_tokens(tokenizer)) for w, _ in examples]
    return examples, build_request(explanation, texts)


def read(
    record: LatentRecord,
    explanation: str,
    examples: list[tuple[Window, int]],
    answer: LLMResponse | LLMError,
) -> SaeBenchOutcome:
    labels = [y for _, y in examples]
    raw = answer.text if isinstance(answer, LLMResponse) else None
    indices = parse_indices(raw, len(examples)) if raw is not None else None
    error = None
    accuracy = None
    if isinstance(answer, LLMError):
        error = str(answer)
    elif indices is None:
        error = NOT_INDICES
    else:
        predicted = [1 if i + 1 in indices else 0 for i in range(len(examples))]
        accuracy = sum(p == y for p, y in zip(predicted, labels, strict=True)) / len(labels)
    return SaeBenchOutcome(
        latent=record.latent,
        explanation=explanation,
        labels=labels,
        shown=[(w.seq, w.start) for w, _ in examples],
        predicted_indices=indices,
        raw_answer=raw,
        error=error,
        accuracy=accuracy,
    )


def indices_validator(n: int) -> Validator:
    """Rejects an answer that is neither 'None' nor a list of example numbers."""

    def check(answer: LLMResponse) -> str | None:
        return None if parse_indices(answer.text, n) is not None else NOT_INDICES

    return check


NOT_INDICES = "answer is not 'None' or a list of example numbers"


class SaeBenchMetrics(BaseModel):
    accuracy: float | None = pooled("Fraction of the 14 examples classified right.")
    failed_fraction: float = pooled(
        "1.0 when the answer could not be read (pools to a fraction).", bookkeeping=True
    )


class SaeBenchScorer:
    """:class:`~sae_interp.scorers.base.LatentScorer` of the SAEBench-compatible mode."""

    def __init__(self, tokenizer: Any, service: LLMService | None, seed: int) -> None:
        self.tokenizer, self.service, self.seed = tokenizer, service, seed

    def score(self, items: Sequence[ScoreItem]) -> list[SaeBenchOutcome]:
        if self.service is None:
            raise RuntimeError("this scorer was built for planning only (no LLM service)")
        planned = [plan(i.record, i.explanation, self.tokenizer, self.seed) for i in items]
        answers = self.service.complete_all(
            [request for _, request in planned],
            validate=[indices_validator(len(examples)) for examples, _ in planned],
        )
        return [
            read(item.record, item.explanation, examples, answer)
            for item, (examples, _), answer in zip(items, planned, answers, strict=True)
        ]

    def metrics(self, outcome: SaeBenchOutcome) -> SaeBenchMetrics:
        return SaeBenchMetrics(
            accuracy=outcome.accuracy, failed_fraction=float(outcome.accuracy is None)
        )

    def planned_requests(self, item: ScoreItem) -> list[LLMRequest]:
        return [plan(item.record, item.explanation, self.tokenizer, self.seed)[1]]
