"""Fuzzing: true vs misplaced highlights judged from the explanation, with controls."""

from sae_interp.evals.fuzzing.eval_config import FuzzingEvalConfig
from sae_interp.evals.fuzzing.eval_output import FuzzingEvalOutput
from sae_interp.evals.fuzzing.main import run_eval

EvalConfig = FuzzingEvalConfig
EvalOutput = FuzzingEvalOutput

__all__ = ["EvalConfig", "EvalOutput", "FuzzingEvalConfig", "FuzzingEvalOutput", "run_eval"]
