"""Output schema of the embedding eval."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sae_interp.core.output import BaseEvalOutput
from sae_interp.evals.common.scored import ExplainedCounts, LatentScore
from sae_interp.evals.embedding.eval_config import EmbeddingEvalConfig
from sae_interp.scorers.embedding import EmbeddingMetrics, EmbeddingOutcome


class PooledEmbedding(BaseModel):
    """Means over scored latents."""

    auroc: float
    mean_similarity_activating: float
    mean_similarity_negatives: float
    n_latents: int


class EmbeddingEvalMetrics(ExplainedCounts):
    embedding: PooledEmbedding | None = Field(description="With each latent's explanation.")
    random_explanation_control: PooledEmbedding | None = Field(
        description="The same scoring with explanations shuffled across latents."
    )


LatentEmbeddingResult = LatentScore[EmbeddingOutcome, EmbeddingMetrics]


class EmbeddingEvalOutput(
    BaseEvalOutput[EmbeddingEvalConfig, EmbeddingEvalMetrics, LatentEmbeddingResult]
):
    """Result of ``sae_interp.evals.embedding``."""
