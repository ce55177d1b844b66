"""The per-latent loop every explanation-based eval runs on.

An eval's stage works on a group of latents and returns one result per latent; the loop
skips the latents already finished in the per-latent JSONL (resume), works through the rest
in groups (overlapping groups when the stage waits on an LLM), stores each result as its
group finishes, and hands back every latent's result in the requested order. A later stage
may finish latents an earlier one stored (``finished`` says which are done), e.g. a control
that needs every latent's explanation first. A failed latent is returned and counted but not
stored, so a rerun retries exactly it; every eval inherits that here.

Why groups overlap: a group's last slow answers would leave the LLM backend idle at every
group boundary. :func:`run_overlapped` works on the next group(s) while one finishes; every
thread's requests wait on the service's one concurrency limit, so the backend sees one
queue that never runs dry until the last group."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Protocol, TypeVar

from pydantic import BaseModel
from tqdm.auto import tqdm

from sae_interp.activations.records import LatentRecord, RecordStatus
from sae_interp.framework.failures import FAILED_STATUSES
from sae_interp.framework.latent_store import LatentStore
from sae_interp.llm.errors import FailureKind

logger = logging.getLogger(__name__)


class LatentResult(Protocol):
    """What the loop and the status counts read of a per-latent result."""

    @property
    def latent(self) -> int: ...

    @property
    def status(self) -> str: ...


ResultT = TypeVar("ResultT", bound=BaseModel)


def run_latents(
    latents: Sequence[int],
    store: LatentStore[ResultT],
    work: Callable[[list[int]], list[ResultT]],
    *,
    group: int,
    desc: str,
    overlap: int = 1,
    finished: Callable[[ResultT], bool] | None = None,
    unfinished: Callable[[ResultT], bool] | None = None,
) -> list[ResultT]:
    """``work`` on every latent of ``latents`` not finished in ``store`` yet (a stored result
    counts as finished unless ``finished`` says otherwise), ``group`` latents at a time, up to
    ``overlap`` groups at once; each result is stored as its group finishes, except those
    ``unfinished`` picks (by default a failed explanation or scoring,
    :data:`~sae_interp.framework.failures.FAILED_STATUSES`): they are returned and counted
    but not stored, so the next run retries exactly them. Returns every latent's result, in
    order."""
    if unfinished is None:
        unfinished = _failed

    def done(latent: int) -> bool:
        stored = store.get(latent)
        return stored is not None and (finished is None or finished(stored))

    pending = [latent for latent in latents if not done(latent)]
    if len(pending) < len(latents):
        logger.info(
            "%s: resuming, %d of %d latents already done",
            desc,
            len(latents) - len(pending),
            len(latents),
        )
    groups = [pending[i : i + group] for i in range(0, len(pending), max(1, group))]
    bar = tqdm(total=len(pending), desc=desc, leave=False)

    left: dict[int, ResultT] = {}

    def keep(group_latents: list[int], results: list[ResultT]) -> None:
        for result in results:
            if unfinished(result):
                left[_latent_of(result)] = result
            else:
                store.put(result)
        bar.update(len(group_latents))

    try:
        run_overlapped(groups, work, keep, overlap=overlap)
    finally:
        bar.close()
    kinds = Counter(map(_kind_of, left.values()))
    if awaited := kinds.pop(FailureKind.batch_pending.value, 0):
        logger.info("%s: %d latents await a batch", desc, awaited)
    if kinds:
        logger.warning(
            "%s: %d latents left unfinished by failures (%s); run again to retry them",
            desc,
            kinds.total(),
            ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items())),
        )
    final = [left.get(latent) or store.get(latent) for latent in latents]
    return [r for r in final if r is not None]


def _kind_of(result: BaseModel) -> str:
    """The failure's kind where the result records one, else its status."""
    return str(getattr(result, "error_kind", None) or _status_of(result))


def _failed(result: BaseModel) -> bool:
    return _status_of(result) in FAILED_STATUSES


def _latent_of(result: BaseModel) -> int:
    return int(getattr(result, "latent"))  # noqa: B009 (every per-latent result has one)


def _status_of(result: BaseModel) -> str:
    return str(getattr(result, "status"))  # noqa: B009


def stored_results(store: LatentStore[ResultT], latents: Sequence[int]) -> list[ResultT]:
    """The stored result of each of ``latents`` that has one, in order."""
    return [r for r in (store.get(latent) for latent in latents) if r is not None]


def pending_records(
    latents: Sequence[int], records: Mapping[int, LatentRecord], store: LatentStore[ResultT]
) -> list[LatentRecord]:
    """The usable records of the latents not in ``store`` yet, in order (what a dry run
    counts)."""
    return [
        records[latent]
        for latent in latents
        if latent not in store and records[latent].status == RecordStatus.ok
    ]


def status_counts(results: Sequence[LatentResult], **fields: str) -> dict[str, int]:
    """``n_requested`` and, per keyword (an output field), how many latents ended with the
    status it names, e.g. ``status_counts(results, n_dead="dead")``."""
    counts = Counter(r.status for r in results)
    return {"n_requested": len(results)} | {field: counts[s] for field, s in fields.items()}


# the statuses every explanation-based eval reports (records that could not be scored)
RECORD_STATUS_COUNTS = {"n_too_rare": "too_rare", "n_dead": "dead"}


G = TypeVar("G")
R = TypeVar("R")


def run_overlapped(
    groups: Iterable[G],
    work: Callable[[G], R],
    done: Callable[[G, R], None],
    overlap: int = 2,
) -> None:
    """``work(group)`` for every group, up to ``overlap`` groups at once (in threads), and
    ``done(group, result)`` in the calling thread as each group finishes (in the order they
    finish). ``overlap=1`` is the plain sequential loop. The first exception stops the
    submission of new groups and is re-raised once running groups have ended."""
    if overlap <= 1:
        for group in groups:
            done(group, work(group))
        return
    pending: dict[Future[R], G] = {}
    source = iter(groups)
    with ThreadPoolExecutor(overlap, thread_name_prefix="sae-interp-group") as pool:
        try:
            for group in source:
                pending[pool.submit(work, group)] = group
                if len(pending) < overlap:
                    continue
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    done(pending.pop(future), future.result())
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    done(pending.pop(future), future.result())
        finally:
            for future in pending:
                future.cancel()
