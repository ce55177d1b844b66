"""Agentic explanation (SAGE-style): hypothesis testing on the live model, evaluated by
generation and prediction next to the one-shot explanation and a shuffled control."""

from sae_interp.evals.agentic.eval_config import AgenticEvalConfig
from sae_interp.evals.agentic.eval_output import AgenticEvalOutput
from sae_interp.evals.agentic.main import run_eval

EvalConfig = AgenticEvalConfig
EvalOutput = AgenticEvalOutput

__all__ = ["AgenticEvalConfig", "AgenticEvalOutput", "EvalConfig", "EvalOutput", "run_eval"]
