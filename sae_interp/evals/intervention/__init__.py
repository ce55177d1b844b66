"""Intervention: steer latents, explain their effect on outputs, score against controls."""

from sae_interp.evals.intervention.eval_config import InterventionEvalConfig
from sae_interp.evals.intervention.eval_output import InterventionEvalOutput
from sae_interp.evals.intervention.main import run_eval

EvalConfig = InterventionEvalConfig
EvalOutput = InterventionEvalOutput

__all__ = [
    "EvalConfig",
    "EvalOutput",
    "InterventionEvalConfig",
    "InterventionEvalOutput",
    "run_eval",
]
