"""Intruder detection: an explanation-free check of how coherent a latent's windows are."""

from sae_interp.evals.intruder.eval_config import IntruderEvalConfig
from sae_interp.evals.intruder.eval_output import IntruderEvalOutput
from sae_interp.evals.intruder.main import run_eval

EvalConfig = IntruderEvalConfig
EvalOutput = IntruderEvalOutput

__all__ = ["EvalConfig", "EvalOutput", "IntruderEvalConfig", "IntruderEvalOutput", "run_eval"]
