"""Autointerp detection: explanations judged on held-out windows, with controls."""

from sae_interp.evals.autointerp.eval_config import AutoInterpEvalConfig
from sae_interp.evals.autointerp.eval_output import AutoInterpEvalOutput
from sae_interp.evals.autointerp.main import run_eval

EvalConfig = AutoInterpEvalConfig
EvalOutput = AutoInterpEvalOutput

__all__ = ["AutoInterpEvalConfig", "AutoInterpEvalOutput", "EvalConfig", "EvalOutput", "run_eval"]
