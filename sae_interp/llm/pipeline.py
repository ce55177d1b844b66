"""Keep the LLM busy across groups of work.

Callers that score latents in groups (so results are stored as each group finishes) would
leave the backend idle at every group boundary: the last slow answers of a group hold up
the next group's requests. :func:`run_overlapped` works on the next group(s) while one is
finishing; since every thread's requests wait on the service's single concurrency limit,
the backend sees one queue that never runs dry until the last group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

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
