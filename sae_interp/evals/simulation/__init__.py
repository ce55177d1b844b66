"""Simulation: a simulator predicts per-token activations from the explanation; scored by
correlation with the truth, against shuffled explanations."""

from sae_interp.evals.simulation.eval_config import SimulationEvalConfig
from sae_interp.evals.simulation.eval_output import SimulationEvalOutput
from sae_interp.evals.simulation.main import run_eval

EvalConfig = SimulationEvalConfig
EvalOutput = SimulationEvalOutput

__all__ = ["EvalConfig", "EvalOutput", "SimulationEvalConfig", "SimulationEvalOutput", "run_eval"]
