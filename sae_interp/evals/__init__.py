"""One subpackage per eval; each exports ``run_eval`` and its ``EvalConfig`` and registers
its :class:`~sae_interp.framework.runner.EvalDefinition` in ``EVALS`` when imported."""

from __future__ import annotations

import importlib
from typing import Any

from sae_interp.framework.runner import EVALS, EvalDefinition

# name -> module that registers it (imported on demand, so `import sae_interp` stays light)
EVAL_MODULES: dict[str, str] = {
    "core": "sae_interp.evals.core.main",
    "autointerp": "sae_interp.evals.autointerp.main",
    "fuzzing": "sae_interp.evals.fuzzing.main",
    "surprisal": "sae_interp.evals.surprisal.main",
    "embedding": "sae_interp.evals.embedding.main",
    "intervention": "sae_interp.evals.intervention.main",
    "agentic": "sae_interp.evals.agentic.main",
    "sparse_probing": "sae_interp.evals.sparse_probing.main",
    "simulation": "sae_interp.evals.simulation.main",
    "intruder": "sae_interp.evals.intruder.main",
    "all": "sae_interp.evals.all.main",
}


# the evals built on the explain-and-score loop: ``evals.all`` runs any of them and takes
# every one of their settings
EXPLANATION_EVALS: tuple[str, ...] = (
    "autointerp",
    "fuzzing",
    "surprisal",
    "embedding",
    "simulation",
    "intruder",
)

# evals with a per-SAE run of their own that ``evals.all`` runs whole on the same model and
# SAE: the settings they share with the run (model, SAEs, corpus, seed, LLM, output
# directory, ...) come from it, the rest from their defaults or a config file
# (``--eval-config-files intervention=cfg.json``)
WHOLE_EVALS: tuple[str, ...] = ("intervention", "agentic", "sparse_probing")


def get_eval(name: str) -> EvalDefinition[Any]:
    if name in EVAL_MODULES:
        importlib.import_module(EVAL_MODULES[name])
    return EVALS.get(name)
