"""How busy the LLM layer keeps its backend: requests in flight, integrated over time."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator


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
