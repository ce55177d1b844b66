"""The eval framework, above models, SAEs and activations: eval configs, typed outputs with
provenance, the per-SAE runner and its registry of evals, the generated CLI, results tables
and the per-latent store that makes runs resumable."""

from sae_interp.framework.config import BaseEvalConfig
from sae_interp.framework.output import BaseEvalOutput, Provenance, json_schema
from sae_interp.framework.runner import EVALS, EvalContext, EvalDefinition, EvalResult, run_per_sae

__all__ = [
    "EVALS",
    "BaseEvalConfig",
    "BaseEvalOutput",
    "EvalContext",
    "EvalDefinition",
    "EvalResult",
    "Provenance",
    "json_schema",
    "run_per_sae",
]
