"""Core SAE metrics: sparsity, reconstruction, downstream CE loss."""

from sae_interp.evals.core.eval_config import CoreEvalConfig
from sae_interp.evals.core.eval_output import CoreEvalOutput
from sae_interp.evals.core.main import run_eval

EvalConfig = CoreEvalConfig
EvalOutput = CoreEvalOutput

__all__ = ["CoreEvalConfig", "CoreEvalOutput", "EvalConfig", "EvalOutput", "run_eval"]
