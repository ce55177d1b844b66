"""Several explanation-based evals on the same SAEs, sharing cache, explanations and LLM."""

from sae_interp.evals.all.eval_config import AllEvalConfig
from sae_interp.evals.all.eval_output import AllEvalOutput
from sae_interp.evals.all.main import run_eval

EvalConfig = AllEvalConfig
EvalOutput = AllEvalOutput

__all__ = ["AllEvalConfig", "AllEvalOutput", "EvalConfig", "EvalOutput", "run_eval"]
