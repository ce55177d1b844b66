"""Output schema of the embedding eval."""

from __future__ import annotations

from pydantic import Field

from sae_interp.evals.common.scored_models import LatentScore
from sae_interp.evals.common.summary import ControlledMetrics
from sae_interp.evals.embedding.eval_config import EmbeddingEvalConfig
from sae_interp.framework.output import BaseEvalOutput
from sae_interp.scorers.embedding import EmbeddingMetrics, EmbeddingOutcome
from sae_interp.stats import pooled_model

PooledEmbedding = pooled_model(EmbeddingMetrics)


class EmbeddingEvalMetrics(ControlledMetrics[PooledEmbedding]):  # type: ignore[valid-type]
    embedding: PooledEmbedding | None = Field(description="With each latent's explanation.")  # type: ignore[valid-type]


LatentEmbeddingResult = LatentScore[EmbeddingOutcome, EmbeddingMetrics]


class EmbeddingEvalOutput(
    BaseEvalOutput[EmbeddingEvalConfig, EmbeddingEvalMetrics, LatentEmbeddingResult]
):
    """Result of ``sae_interp.evals.embedding``."""
