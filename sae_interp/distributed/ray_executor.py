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
  (``num_gpus=1``), else a CPU; the stages of a sharded run that only read records and
  ask a judge (``explain``, and ``score`` for most scorers) ask for a CPU and never load
  the model's weights (:class:`~sae_interp.models.lazy.LazyModel`). ``ray.wait`` keeps at most two tasks per CPU pending. A
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
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sae_interp.base.errors import SaeInterpError
from sae_interp.distributed import EXECUTOR_ENV
from sae_interp.distributed.shards import (
    LatentShard,
    Stage,
    merge_shard_files,
    shard_stage,
    stages,
)
from sae_interp.llm.limits import endpoint_identity

logger = logging.getLogger(__name__)

NAMESPACE = "sae_interp"
TASK_RETRIES = 3
LEASE_MARGIN_S = 10.0  # a slot outlives its request's timeout by this much


class SharedStorageError(SaeInterpError):
    pass


def check_reachable(address: str | None) -> None:
    """A ``HOST:PORT`` address answers on that port, or one sentence saying it does not
    (before Ray spends its own long retries on it)."""
    if address is None or address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise SaeInterpError(f"--ray-address {address!r}: give auto or HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as err:
        raise SaeInterpError(
            f"--ray-address {address}: no Ray cluster answers there ({err.strerror or err})"
        ) from None


def connect(address: str | None) -> None:
    """Join (or start) the Ray cluster, once per process."""
    import ray

    check_reachable(address)
    if ray.is_initialized():
        return
    if address is None:
        ray.init(include_dashboard=False, log_to_driver=False, namespace=NAMESPACE)
    else:
        ray.init(address=address, log_to_driver=False, namespace=NAMESPACE)


# ---- one LLM limit across workers ----------------------------------------------------------


class ConcurrencyLimitActor:
    """``limit`` slots that live in one actor, each held under a lease that lapses after
    ``lease_s`` (longer than any one request may take): a worker killed while it held a
    slot gives it back that way. Async, so waiting callers do not block the actor."""

    def __init__(self, limit: int, lease_s: float) -> None:
        self.limit, self.lease_s = limit, lease_s
        self._held: dict[int, float] = {}  # lease -> when it lapses
        self._issued = 0
        self._changed = asyncio.Condition()

    def _lapse(self) -> None:
        now = time.monotonic()
        for lease in [lease for lease, until in self._held.items() if until <= now]:
            logger.warning("an LLM slot was not given back in %.0f s; reclaiming it", self.lease_s)
            del self._held[lease]

    async def acquire(self) -> int:
        async with self._changed:
            self._lapse()
            while len(self._held) >= self.limit:
                first = min(self._held.values()) - time.monotonic()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=max(first, 0.01))
                self._lapse()
            self._issued += 1
            self._held[self._issued] = time.monotonic() + self.lease_s
            return self._issued

    async def release(self, lease: int) -> None:
        async with self._changed:
            if self._held.pop(lease, None) is not None:
                self._changed.notify()

    def in_use(self) -> int:
        return len(self._held)


def lease_s(llm: Any) -> float:
    """How long a slot of ``llm``'s limit is held at most: one request's timeout, and a
    margin."""
    return float(llm.timeout_s) + LEASE_MARGIN_S


def limit_name(identity: str) -> str:
    return f"llm-limit:{identity}"


def create_limit(identity: str, limit: int, lease_s: float) -> Any:
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
    ).remote(limit, lease_s)


def create_limits(llm: Any) -> list[Any]:
    """The limits of the LLM ``llm`` for a run's workers: one over all its requests and,
    with several endpoints, one per endpoint (``--llm-concurrency`` each)."""
    limits = [create_limit(llm.identity(), llm.effective_concurrency(), lease_s(llm))]
    endpoints = llm.endpoints()
    if len(endpoints) > 1:
        per_endpoint = llm.per_endpoint_concurrency()
        limits += [
            create_limit(endpoint_identity(llm.identity(), url), per_endpoint, lease_s(llm))
            for url in endpoints
        ]
    return limits


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

    async def acquire(self) -> int:
        return int(await self._actor.acquire.remote())

    async def release(self, lease: object) -> None:
        await self._actor.release.remote(lease)


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


def _run_sae(
    run_local: Callable[..., list[Any]],
    definition: Any,
    config: Any,
    stage: Stage | None,
    shard: LatentShard | None,
) -> Any:
    """The local runner on the one SAE of ``config``: whole (``stage`` None), or one stage
    of a sharded run (its output: the merge stage's; None for the others)."""
    if stage is None:
        (output,) = run_local(definition, config)
        return output
    with shard_stage(stage, shard):
        outputs = run_local(definition, config)
    return outputs[0] if outputs else None


# ---- the driver ----------------------------------------------------------------------------


def check_shared_storage(path: Path, sees: Callable[[str], tuple[str, bool]] = _sees) -> None:
    """Every node sees ``path`` (a file written there now, looked for by ``sees`` in a task
    on each node), or one sentence naming the node that does not."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    path.mkdir(parents=True, exist_ok=True)
    token = path / f".ray-check-{uuid.uuid4().hex}"
    token.write_text("sae_interp")
    try:
        probe = ray.remote(num_cpus=0)(sees)
        nodes = [n["NodeID"] for n in ray.nodes() if n.get("Alive")]
        found = ray.get(
            [
                probe.options(
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


def stage_resources(
    definition: Any, config: Any, stage: Stage | None, model_work: dict[str, float]
) -> dict[str, float]:
    """What one task of ``stage`` asks for: ``model_work`` (a GPU where the cluster has one)
    for a whole run and the stages that compute with the model, one CPU for the stages that
    only read records and ask a judge (they never load the model's weights)."""
    if stage is None or definition.stage_uses_model(config, stage):
        return model_work
    return {"num_cpus": 1}


def _groups_by_hook(config: Any, specs: Sequence[str]) -> list[list[str]]:
    from sae_interp.saes.loading import sae_shape

    groups: dict[str, list[str]] = {}
    for spec in specs:
        shape = sae_shape(spec)  # read from the files, nothing loaded; None: unknown here
        hook = shape[2] if shape is not None else None
        groups.setdefault(hook or f"unknown:{spec}", []).append(spec)
    return [g for hook, g in groups.items() if len(g) > 1 and not hook.startswith("unknown:")]


def _each(task: Any, resources: dict[str, float], calls: Sequence[tuple[Any, ...]]) -> list[Any]:
    """``task`` on each argument tuple of ``calls``, at most two per CPU pending at once
    (``ray.wait``); the results in order."""
    import ray

    max_pending = max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
    refs: list[Any] = []
    pending: list[Any] = []
    for args in calls:
        if len(pending) >= max_pending:
            _, pending = ray.wait(pending, num_returns=1)
        refs.append(task.options(**resources).remote(*args))
        pending.append(refs[-1])
    return list(ray.get(refs))


def run_on_ray(definition: Any, config: Any, run_local: Callable[..., list[Any]]) -> list[Any]:
    """The outputs of ``definition`` on every SAE of ``config``, each computed by Ray tasks
    that call ``run_local`` (the local runner) on its SAE: one per SAE, or with latent
    shards one per (SAE, shard) and stage (:mod:`sae_interp.distributed.shards`)."""
    import ray

    llm = getattr(config, "llm", None)
    if llm is not None and llm.batched():
        raise SaeInterpError("batch mode runs in one process: leave out --executor ray")
    connect(config.ray_address)
    output_dir = Path(config.output_dir)
    check_shared_storage(output_dir)
    resources = _resources(config)
    n_shards = config.shard_count() if definition.shard is not None else 1
    # held until the run ends: the workers' services share them
    limits = create_limits(llm) if llm is not None else []
    task = ray.remote(max_retries=TASK_RETRIES)(_in_worker)
    try:
        if type(config).collects_latents:
            groups = _groups_by_hook(config, config.saes)
            if groups:
                logger.info("collecting %d groups of SAEs at one hook, one pass each", len(groups))
            _each(task, resources, [(_collect, config, g) for g in groups])
        one = {spec: config.model_copy(update={"saes": [spec]}) for spec in config.saes}

        def stage(name: Stage | None, shards: Sequence[LatentShard | None]) -> list[Any]:
            calls = [
                (_run_sae, run_local, definition, one[spec], name, shard)
                for spec in config.saes
                for shard in shards
            ]
            started = time.perf_counter()
            results = _each(task, stage_resources(definition, config, name, resources), calls)
            label = name.value if name is not None else "run"
            seconds = time.perf_counter() - started
            logger.info("%s: %d tasks in %.1f s", label, len(calls), seconds)
            return results

        if n_shards > 1:
            merge_shard_files(output_dir)  # what a stopped sharded run left
            for name, shards in stages(n_shards):
                outputs = stage(name, shards)
                merge_shard_files(output_dir)
        else:
            outputs = stage(None, [None])
        logger.info(
            "%s: %d SAEs done on Ray (%d latent shards each)",
            definition.eval_type_id,
            len(outputs),
            n_shards,
        )
    finally:
        for limit in limits:
            ray.kill(limit)
    return outputs
