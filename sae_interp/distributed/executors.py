"""Where the work of a run is computed: the executors (``--executor``), one registry of them.

An :class:`Executor` takes an eval, a config and the in-process runner, and returns the
outputs of the eval on every SAE of the config. ``local`` runs them in this process;
``ray`` makes every SAE (or latent shard) a task on a Ray cluster
(:mod:`sae_interp.distributed.ray_executor`), whose workers run the in-process runner on
their part. Another executor (a batch scheduler, another engine) registers itself in
:data:`EXECUTORS` and is then named by ``--executor``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sae_interp.base.registry import Registry

RunLocal = Callable[[Any, Any], list[Any]]


@dataclass(frozen=True)
class Executor:
    """``run(definition, config, run_local)``: the outputs of ``definition`` on every SAE of
    ``config``, in the order of ``config.saes``, each computed by ``run_local(definition,
    config_of_its_part)``, wherever the executor puts that call.

    ``in_process``: the calls happen in this process, so ``run_local`` may close over model
    and SAE objects the caller holds; otherwise it is the runner's module-level entry point,
    which an executor's worker calls with
    :data:`~sae_interp.distributed.EXECUTOR_ENV` set to the executor's name.
    ``missing``: why the executor cannot run here (a missing extra), or None; checked when a
    config is read."""

    run: Callable[[Any, Any, RunLocal], list[Any]]
    in_process: bool
    describe: str
    missing: Callable[[], str | None] = lambda: None


EXECUTORS: Registry[Executor] = Registry("executor")


def _run_on_ray(definition: Any, config: Any, run_local: RunLocal) -> list[Any]:
    from sae_interp.distributed.ray_executor import run_on_ray

    return run_on_ray(definition, config, run_local)


def _ray_missing() -> str | None:
    if importlib.util.find_spec("ray") is None:
        return "--executor ray needs Ray: pip install 'sae-interp[distributed]'"
    return None


EXECUTORS.register(
    "local",
    Executor(
        run=lambda definition, config, run_local: run_local(definition, config),
        in_process=True,
        describe="every SAE in this process, one after another",
    ),
)
EXECUTORS.register(
    "ray",
    Executor(
        run=_run_on_ray,
        in_process=False,
        describe="every SAE (or latent shard) a task on a Ray cluster",
        missing=_ray_missing,
    ),
)
