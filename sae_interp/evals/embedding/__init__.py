"""Embedding: cosine similarity of the explanation to activating vs non-activating windows."""

from sae_interp.evals.embedding.eval_config import EmbeddingEvalConfig
from sae_interp.evals.embedding.eval_output import EmbeddingEvalOutput
from sae_interp.evals.embedding.main import run_eval

EvalConfig = EmbeddingEvalConfig
EvalOutput = EmbeddingEvalOutput

__all__ = ["EmbeddingEvalConfig", "EmbeddingEvalOutput", "EvalConfig", "EvalOutput", "run_eval"]
