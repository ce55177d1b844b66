"""Configuration of the embedding eval."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.scorers.embedding import EmbeddingSettings


class EmbeddingEvalConfig(ExplainedEvalConfig):
    """Embedding: is the explanation closer (sentence-embedding cosine) to activating windows
    than to non-activating ones? No LLM calls once explanations exist."""

    eval_type_id: ClassVar[str] = "embedding"

    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
