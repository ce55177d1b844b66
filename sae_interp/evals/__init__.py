"""One subpackage per eval; each registers its one
:class:`~sae_interp.framework.runner.EvalDefinition` in ``EVALS`` when its ``main`` module is
imported, and exports ``run_eval`` and its ``EvalConfig``.

The subpackages are the list of evals: every other list (the explanation-based evals that
``evals.all`` combines, the evals it runs whole, the command line's) is read from their
definitions. Each is imported on first use, so ``import sae_interp`` stays light.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from pathlib import Path
from typing import Any

from sae_interp.framework.runner import EVALS, EvalDefinition

# subpackages of this package that are not evals
NOT_EVALS = frozenset({"common"})
# the eval that combines the others; it is never one of the evals it combines
COMBINED = "all"


@functools.cache
def _subpackages() -> tuple[str, ...]:
    return tuple(
        sorted(
            info.name
            for info in pkgutil.iter_modules([str(Path(__file__).parent)])
            if info.ispkg and info.name not in NOT_EVALS
        )
    )


def eval_names() -> list[str]:
    """Every eval, by name (its subpackage), sorted (the folder is listed once)."""
    return list(_subpackages())


def get_eval(name: str) -> EvalDefinition[Any, Any]:
    """The definition of eval ``name`` (its module imported first); an unknown name is a
    :class:`~sae_interp.base.errors.SpecError` listing the known ones."""
    if name in eval_names():
        importlib.import_module(f"sae_interp.evals.{name}.main")
    return EVALS.get(name)


def combinable_evals() -> list[EvalDefinition[Any, Any]]:
    """The definitions of every eval but the combined one, in name order."""
    return [get_eval(name) for name in eval_names() if name != COMBINED]


def explanation_evals() -> tuple[str, ...]:
    """The evals built on the explain-and-score loop: ``evals.all`` runs any of them on
    shared latents and explanations and takes every one of their settings."""
    return tuple(d.eval_type_id for d in combinable_evals() if d.scored is not None)


def whole_evals() -> tuple[str, ...]:
    """The evals with a per-SAE run of their own that ``evals.all`` runs whole on the same
    model and SAE: the settings they share with the run (model, SAEs, corpus, seed, LLM,
    output directory, ...) come from it, the rest from their defaults or a config file
    (``--eval-config-files intervention=cfg.json``)."""
    return tuple(d.eval_type_id for d in combinable_evals() if d.runs_whole_in_all)
