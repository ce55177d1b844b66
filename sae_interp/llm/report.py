"""What the LLM layer reports about a run: calls, cache hits, failures and retries by kind,
tokens (with the part the backend served from its prefix cache) and cost; and how busy it
keeps its backend (requests in flight, integrated over time)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sae_interp.llm.errors import RETRYABLE, FailureKind
from sae_interp.llm.types import Usage


def _kinds() -> dict[str, int]:
    return {kind.value: 0 for kind in FailureKind}


@dataclass
class UsageReport:
    calls: int = 0  # answered by the backend
    cached: int = 0  # answered from the cache
    failed: int = 0  # calls left without a usable answer, by kind in failed_by_kind
    retries: int = 0
    usage: Usage = field(default_factory=Usage)  # tokens actually paid for
    cost_usd: float = 0.0
    priced: bool = True
    price_per_mtok: tuple[float, float] | None = None  # (input, output) of synchronous calls
    # replaced, never mutated, on each update: a dataclasses.replace() copy stays a snapshot
    failed_by_kind: dict[str, int] = field(default_factory=_kinds)
    retries_by_kind: dict[str, int] = field(default_factory=_kinds)
    # batch mode: what the command's batches did and cost (BatchRun.summary), None otherwise
    batch: dict[str, float | int | bool] | None = None

    def count_failure(self, kind: FailureKind) -> None:
        self.failed += 1
        self.failed_by_kind = {
            **self.failed_by_kind,
            kind.value: self.failed_by_kind[kind.value] + 1,
        }

    def count_retry(self, kind: FailureKind) -> None:
        self.retries += 1
        self.retries_by_kind = {
            **self.retries_by_kind,
            kind.value: self.retries_by_kind[kind.value] + 1,
        }

    def __add__(self, other: UsageReport) -> UsageReport:
        """Two services' reports as one (an eval's judge and its scoring LM)."""
        return UsageReport(
            calls=self.calls + other.calls,
            cached=self.cached + other.cached,
            failed=self.failed + other.failed,
            retries=self.retries + other.retries,
            usage=self.usage + other.usage,
            cost_usd=self.cost_usd + other.cost_usd,
            priced=self.priced and other.priced,
            price_per_mtok=self.price_per_mtok or other.price_per_mtok,
            failed_by_kind={k: v + other.failed_by_kind[k] for k, v in self.failed_by_kind.items()},
            retries_by_kind={
                k: v + other.retries_by_kind[k] for k, v in self.retries_by_kind.items()
            },
            batch=self.batch or other.batch,
        )

    def as_dict(self) -> dict[str, Any]:
        """Flat, with the same keys every time (so two reports can be subtracted)."""
        out: dict[str, Any] = {
            "calls": self.calls,
            "cached": self.cached,
            "failed": self.failed,
            "retries": self.retries,
            "prompt_tokens": self.usage.prompt_tokens,
            "completion_tokens": self.usage.completion_tokens,
            "cached_prompt_tokens": self.usage.cached_tokens,
            "cost_usd": round(self.cost_usd, 6),
            "priced": self.priced,
            "price_input_per_mtok": self.price_per_mtok[0] if self.price_per_mtok else 0.0,
            "price_output_per_mtok": self.price_per_mtok[1] if self.price_per_mtok else 0.0,
        }
        out |= {f"failed_{kind.value}": self.failed_by_kind[kind.value] for kind in FailureKind}
        retryable = [kind for kind in FailureKind if kind in RETRYABLE]
        out |= {f"retries_{kind.value}": self.retries_by_kind[kind.value] for kind in retryable}
        out["batched"] = self.batch is not None
        out |= self.batch or dict.fromkeys(BATCH_FIELDS, 0)
        return out


# the batch fields of a report: the command's batches as a whole. These and the prices are
# snapshots, never a difference of two reports (SNAPSHOT_PREFIXES)
BATCH_FIELDS = (
    "batch_batches",
    "batch_calls",
    "batch_prompt_tokens",
    "batch_completion_tokens",
    "batch_cost_usd",
    "batch_price_input_per_mtok",
    "batch_price_output_per_mtok",
    "batch_failed_lines",
    "batch_expired_lines",
    "batch_resubmitted",
    "batch_fell_back",
    "batch_given_up",
)


SNAPSHOT_PREFIXES = ("batch_", "price_")


def failure_counts(usage: dict[str, Any]) -> dict[str, int]:
    """The non-zero ``failed_<kind>`` counts of an :meth:`UsageReport.as_dict` (or a
    difference of two), keyed by kind."""
    return {
        kind.value: int(usage.get(f"failed_{kind.value}", 0))
        for kind in FailureKind
        if usage.get(f"failed_{kind.value}", 0)
    }


class FlightMeter:
    """Counts requests at the backend and integrates that count over time, so the mean
    number in flight over any window is ``(integral(t1) - integral(t0)) / (t1 - t0)``."""

    def __init__(self) -> None:
        self._clock = time.perf_counter
        self._lock = threading.Lock()
        self.now_in_flight = 0
        self.peak = 0
        self._integral = 0.0
        self._since = self._clock()

    def _advance(self) -> float:
        now = self._clock()
        self._integral += self.now_in_flight * (now - self._since)
        self._since = now
        return now

    @contextlib.contextmanager
    def in_flight(self) -> Iterator[None]:
        with self._lock:
            self._advance()
            self.now_in_flight += 1
            self.peak = max(self.peak, self.now_in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._advance()
                self.now_in_flight -= 1

    def reading(self) -> tuple[float, float]:
        """(time, request-seconds so far): subtract two readings for a window's mean."""
        with self._lock:
            now = self._advance()
            return now, self._integral


def mean_in_flight(start: tuple[float, float], end: tuple[float, float]) -> float:
    """Mean requests in flight between two :meth:`FlightMeter.reading` s."""
    elapsed = end[0] - start[0]
    return (end[1] - start[1]) / elapsed if elapsed > 0 else 0.0
