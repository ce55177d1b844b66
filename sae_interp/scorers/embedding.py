"""Embedding scoring: is the explanation semantically closer to activating windows than to
non-activating ones? A sentence embedder embeds a retrieval query built from the explanation
and each test window's plain text; the latent's score is the AUROC of cosine similarity
separating activating from non-activating windows. No LLM call once the explanation exists.
Window embeddings are computed once and reused (also by the shuffled-explanation control)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from sae_interp.activations.window_index import DEFAULT_EMBEDDER
from sae_interp.base import FrozenModel
from sae_interp.llm.types import LLMRequest
from sae_interp.scorers import metrics
from sae_interp.scorers.base import ScoreItem
from sae_interp.stats import pooled

QUERY_TEMPLATE = (
    "Instruct: Retrieve sentences that could be related to the explanation.\nQuery: {explanation}"
)


class EmbeddingSettings(FrozenModel):
    model: str = Field(
        default=DEFAULT_EMBEDDER,
        description="Sentence-transformers model: the shipped 'all-MiniLM-L6-v2' (offline), a "
        "local model directory, or a hub id.",
    )
    query_template: str = Field(default=QUERY_TEMPLATE, description="'{explanation}' is filled in.")
    batch_size: int = Field(default=64, gt=0, description="Texts per embedding batch.")


class EmbeddingExample(BaseModel):
    seq: int
    start: int
    label: int
    quantile_bin: int | None = None
    similarity: float


class EmbeddingOutcome(BaseModel):
    latent: int
    explanation: str
    query: str
    examples: list[EmbeddingExample]


class EmbeddingMetrics(BaseModel):
    auroc: float = pooled("Cosine similarity, activating vs non-activating windows.")
    mean_similarity_activating: float = pooled("Mean cosine similarity to activating windows.")
    mean_similarity_negatives: float = pooled("Mean cosine similarity to non-activating windows.")
    n_examples: int


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else math.nan


def embedding_metrics(outcome: EmbeddingOutcome) -> EmbeddingMetrics:
    labels = [e.label for e in outcome.examples]
    sims = [e.similarity for e in outcome.examples]
    return EmbeddingMetrics(
        auroc=metrics.auroc(labels, sims),
        mean_similarity_activating=_mean([s for s, y in zip(sims, labels, strict=True) if y]),
        mean_similarity_negatives=_mean([s for s, y in zip(sims, labels, strict=True) if not y]),
        n_examples=len(sims),
    )


class EmbeddingScorer:
    """:class:`~sae_interp.scorers.base.LatentScorer` on a sentence embedder (anything with
    sentence-transformers' ``encode(texts, batch_size=, normalize_embeddings=)``)."""

    def __init__(self, embedder: Any, tokenizer: Any, settings: EmbeddingSettings) -> None:
        self.embedder, self.tokenizer, self.settings = embedder, tokenizer, settings
        self._windows: dict[str, np.ndarray] = {}

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.embedder.encode(
            list(texts),
            batch_size=self.settings.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)

    def score(self, items: Sequence[ScoreItem]) -> list[EmbeddingOutcome]:
        if self.embedder is None:
            raise RuntimeError("this scorer was built for planning only (no embedder)")
        texts = {
            (w.seq, w.start): "".join(w.str_tokens(self.tokenizer))
            for item in items
            for w in item.record.test_with_negatives
        }
        missing = sorted(set(texts.values()) - self._windows.keys())
        if missing:
            self._windows.update(zip(missing, self._embed(missing), strict=True))
        queries = [self.settings.query_template.format(explanation=i.explanation) for i in items]
        query_vectors = self._embed(queries)
        outcomes = []
        for item, query, q in zip(items, queries, query_vectors, strict=True):
            examples = [
                EmbeddingExample(
                    seq=w.seq,
                    start=w.start,
                    label=int(w.is_activating),
                    quantile_bin=w.quantile_bin,
                    similarity=float(self._windows[texts[w.seq, w.start]] @ q),
                )
                for w in item.record.test_with_negatives
            ]
            outcomes.append(
                EmbeddingOutcome(
                    latent=item.record.latent,
                    explanation=item.explanation,
                    query=query,
                    examples=examples,
                )
            )
        return outcomes

    def metrics(self, outcome: EmbeddingOutcome) -> EmbeddingMetrics:
        return embedding_metrics(outcome)

    def planned_requests(self, item: ScoreItem) -> list[LLMRequest]:
        return []
