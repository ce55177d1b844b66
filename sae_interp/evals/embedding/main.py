"""The embedding eval: cosine similarity of explanation and windows, activating vs not."""

from __future__ import annotations

from typing import Any

from sae_interp.activations.window_index import load_embedder
from sae_interp.evals.common import (
    EvalResources,
    ScoredEval,
    ScoredRun,
    controlled_metrics,
    definition_for,
)
from sae_interp.evals.embedding.eval_config import EmbeddingEvalConfig
from sae_interp.evals.embedding.eval_output import (
    EmbeddingEvalMetrics,
    EmbeddingEvalOutput,
    LatentEmbeddingResult,
)
from sae_interp.framework.runner import EvalContext, run_per_sae
from sae_interp.scorers.embedding import EmbeddingMetrics, EmbeddingScorer


def make_scorer(ctx: EvalContext[Any], resources: EvalResources | None) -> EmbeddingScorer:
    cfg: EmbeddingEvalConfig = ctx.config
    embedder = None
    if resources is not None:
        embedder = resources.shared(
            f"embedder:{cfg.embedding.model}",
            lambda: load_embedder(cfg.embedding.model, device=str(ctx.device)),
        )
    return EmbeddingScorer(embedder, ctx.tokenizer, cfg.embedding)


def summarise(run: ScoredRun) -> EmbeddingEvalMetrics:
    return controlled_metrics(run, EmbeddingMetrics, EmbeddingEvalMetrics, "embedding")


SPEC = ScoredEval(
    eval_type_id="embedding",
    config_cls=EmbeddingEvalConfig,
    output_cls=EmbeddingEvalOutput,
    result_cls=LatentEmbeddingResult,
    make_scorer=make_scorer,
    summarise=summarise,
    table_columns=(
        "embedding.auroc",
        "shuffled_control.auroc",
        "real_minus_shuffled_control.auroc",
        "random_sae_control.auroc",
        "embedding.mean_similarity_activating",
        "embedding.mean_similarity_negatives",
        "n_scored",
        "n_too_rare",
        "n_dead",
        "n_failed_explanations",
    ),
)
DEFINITION = definition_for(SPEC)


def run_eval(config: EmbeddingEvalConfig | None = None, **kwargs: Any) -> list[EmbeddingEvalOutput]:
    """Run the embedding eval on every SAE of ``config`` (``kwargs``: ``model=``, ``saes=``)."""
    return run_per_sae(DEFINITION, config or EmbeddingEvalConfig(), **kwargs)
