"""``--executor ray``: every SAE of a run is a Ray task, after one collection task per hook.

- **Connect.** ``--ray-address auto`` joins the running cluster, ``HOST:PORT`` a given one,
  and none starts Ray on this machine (a process that already called ``ray.init`` keeps
  its own).
- **Shared storage.** Workers write per-latent stores and results under ``--output-dir``,
  and read the latent caches under ``$SAE_INTERP_CACHE``. Before any work, one task on
  every node checks that it sees a file the driver wrote there; a node that cannot is one
  sentence naming it.
- **One pass per hook.** The SAEs that will run are grouped by hook; each group of two or
  more is collected by one task, one forward pass feeding every SAE's cache (its workers
  then find their caches done).
- **A task per SAE.** Each runs the ordinary local runner on its SAE in a worker and
  returns the output. Model work asks for a GPU where the cluster has one
  (``num_gpus=1``), else a CPU. ``ray.wait`` keeps at most two tasks per CPU pending. A
  task whose worker dies is retried by Ray (``max_retries``); the per-latent stores make
  the retry cost only the latents that were not finished.
- **One LLM limit across workers.** A named actor per LLM holds its concurrency
  (``--llm-concurrency`` for each endpoint): every worker's service takes a slot from it
  before each call, so N workers never send N times the configured load.

The outputs equal a local run's on the same settings, apart from timings and the
provenance's ``executor``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sae_interp.base.errors import SaeInterpError
from sae_interp.distributed import EXECUTOR_ENV

logger = logging.getLogger(__name__)

NAMESPACE = "sae_interp"
TASK_RETRIES = 3


class SharedStorageError(SaeInterpError):
    pass


def connect(address: str | None) -> None:
    """Join (or start) the Ray cluster, once per process."""
    import ray

    if ray.is_initialized():
        return
    if address is None:
        ray.init(include_dashboard=False, log_to_driver=False, namespace=NAMESPACE)
    else:
        ray.init(address=address, log_to_driver=False, namespace=NAMESPACE)


# ---- one LLM limit across workers ----------------------------------------------------------


class ConcurrencyLimitActor:
    """A semaphore that lives in one actor; async, so waiting callers do not block it."""

    def __init__(self, limit: int) -> None:
        self._slots = asyncio.Semaphore(limit)
        self.limit = limit

    async def acquire(self) -> None:
        await self._slots.acquire()

    async def release(self) -> None:
        self._slots.release()


def limit_name(identity: str) -> str:
    return f"llm-limit:{identity}"


def create_limit(identity: str, limit: int) -> Any:
    """The named limit actor of one LLM, owned by the driver: it lives as long as the
    driver holds the handle (an actor created by a worker would die with that worker's
    last reference, under the feet of the others)."""
    import ray

    actor_cls: Any = ray.remote(ConcurrencyLimitActor)
    return actor_cls.options(
        num_cpus=0,
        max_concurrency=10_000,
        name=limit_name(identity),
        namespace=NAMESPACE,
        get_if_exists=True,
    ).remote(limit)


class RayLimit:
    """A worker's handle on the named limit of one LLM."""

    def __init__(self, actor: Any) -> None:
        self._actor = actor

    @classmethod
    def find(cls, identity: str, limit: int) -> RayLimit | None:
        """The driver's limit of ``identity``, or None (an LLM the driver does not know of,
        e.g. a remote scoring LM: its own service's limit applies)."""
        import ray

        try:
            return cls(ray.get_actor(limit_name(identity), namespace=NAMESPACE))
        except ValueError:
            return None

    async def acquire(self) -> None:
        await self._actor.acquire.remote()

    async def release(self) -> None:
        await self._actor.release.remote()


def _in_worker(fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn`` in a worker whose LLM services share the cluster-wide limits."""
    from sae_interp.base.logging import setup_logging
    from sae_interp.llm.limits import use_shared_limits

    setup_logging("WARNING")
    os.environ[EXECUTOR_ENV] = "ray"  # the runner here runs locally, and says where
    use_shared_limits(RayLimit.find)
    try:
        return fn(*args)
    finally:
        use_shared_limits(None)


# ---- the tasks -----------------------------------------------------------------------------


def _sees(path: str) -> tuple[str, bool]:
    return socket.gethostname(), Path(path).exists()


def _collect(config: Any, specs: list[str]) -> None:
    from sae_interp.activations.latents import latent_caches_for
    from sae_interp.base.torch_utils import resolve_device
    from sae_interp.models import load_model
    from sae_interp.saes import load_sae

    device = resolve_device(config.device)
    model = load_model(config.model, device=device, dtype=config.dtype)
    saes = [load_sae(spec, model=model, device=device, dtype=config.dtype) for spec in specs]
    latent_caches_for(model, saes, config.corpus, config.n_tokens, config.ctx_len,
                      config.batch_size)  # fmt: skip


def _run_sae(run_local: Callable[..., list[Any]], definition: Any, config: Any) -> Any:
    (output,) = run_local(definition, config)
    return output


# ---- the driver ----------------------------------------------------------------------------


def check_shared_storage(path: Path) -> None:
    """Every node sees ``path`` (a file written there now), or one sentence naming the
    node that does not."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    path.mkdir(parents=True, exist_ok=True)
    token = path / f".ray-check-{uuid.uuid4().hex}"
    token.write_text("sae_interp")
    try:
        sees = ray.remote(num_cpus=0)(_sees)
        nodes = [n["NodeID"] for n in ray.nodes() if n.get("Alive")]
        found = ray.get(
            [
                sees.options(
                    scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)
                ).remote(str(token.resolve()))
                for node in nodes
            ]
        )
    finally:
        token.unlink(missing_ok=True)
    blind = [host for host, seen in found if not seen]
    if blind:
        raise SharedStorageError(
            f"the Ray node {blind[0]} cannot see --output-dir {path.resolve()}: put it on a "
            "filesystem every node mounts (and SAE_INTERP_CACHE too)"
        )


def _resources(config: Any) -> dict[str, float]:
    """A GPU for model work where the cluster has one (and the run may use it), else a CPU."""
    import ray

    gpus = ray.cluster_resources().get("GPU", 0)
    return {"num_gpus": 1} if gpus and config.device != "cpu" else {"num_cpus": 1}


def _groups_by_hook(config: Any, specs: Sequence[str]) -> list[list[str]]:
    from sae_interp.saes.loading import sae_shape

    groups: dict[str, list[str]] = {}
    for spec in specs:
        shape = sae_shape(spec)  # read from the files, nothing loaded; None: unknown here
        hook = shape[2] if shape is not None else None
        groups.setdefault(hook or f"unknown:{spec}", []).append(spec)
    return [g for hook, g in groups.items() if len(g) > 1 and not hook.startswith("unknown:")]


def run_on_ray(definition: Any, config: Any, run_local: Callable[..., list[Any]]) -> list[Any]:
    """The outputs of ``definition`` on every SAE of ``config``, each computed by a Ray
    task that calls ``run_local`` (the local runner) on its SAE."""
    import ray

    llm = getattr(config, "llm", None)
    if llm is not None and llm.batched():
        raise SaeInterpError("batch mode runs in one process: leave out --executor ray")
    connect(config.ray_address)
    check_shared_storage(Path(config.output_dir))
    resources = _resources(config)
    # held until the run ends: the workers' services share it
    limit = create_limit(llm.identity(), llm.effective_concurrency()) if llm is not None else None
    try:
        if type(config).collects_latents:
            collect = ray.remote(max_retries=TASK_RETRIES)(_in_worker)
            groups = _groups_by_hook(config, config.saes)
            if groups:
                logger.info("collecting %d groups of SAEs at one hook, one pass each", len(groups))
            ray.get([collect.options(**resources).remote(_collect, config, g) for g in groups])
        task = ray.remote(max_retries=TASK_RETRIES)(_in_worker)
        max_pending = max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
        pending: dict[Any, str] = {}
        outputs: dict[str, Any] = {}
        for spec in config.saes:
            while len(pending) >= max_pending:
                (done,), _ = ray.wait(list(pending), num_returns=1)
                outputs[pending.pop(done)] = ray.get(done)
            one = config.model_copy(update={"saes": [spec]})
            ref = task.options(**resources).remote(_run_sae, run_local, definition, one)
            pending[ref] = spec
        for ref, spec in pending.items():
            outputs[spec] = ray.get(ref)
        logger.info("%s: %d SAEs done on Ray", definition.eval_type_id, len(outputs))
    finally:
        if limit is not None:
            ray.kill(limit)
    return [outputs[spec] for spec in config.saes]
