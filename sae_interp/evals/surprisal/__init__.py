"""Surprisal: loss drop of a base LM on activating windows given the explanation."""

from sae_interp.evals.surprisal.eval_config import SurprisalEvalConfig
from sae_interp.evals.surprisal.eval_output import SurprisalEvalOutput
from sae_interp.evals.surprisal.main import run_eval

EvalConfig = SurprisalEvalConfig
EvalOutput = SurprisalEvalOutput

__all__ = ["EvalConfig", "EvalOutput", "SurprisalEvalConfig", "SurprisalEvalOutput", "run_eval"]
