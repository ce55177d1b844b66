"""Sparse probing: do SAE latents carry the concepts probes on raw activations find?"""

from sae_interp.evals.sparse_probing.eval_config import SparseProbingEvalConfig
from sae_interp.evals.sparse_probing.eval_output import SparseProbingEvalOutput
from sae_interp.evals.sparse_probing.main import run_eval

EvalConfig = SparseProbingEvalConfig
EvalOutput = SparseProbingEvalOutput

__all__ = [
    "EvalConfig",
    "EvalOutput",
    "SparseProbingEvalConfig",
    "SparseProbingEvalOutput",
    "run_eval",
]
