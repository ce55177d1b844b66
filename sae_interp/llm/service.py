"""The LLM layer every eval talks to: one backend behind concurrency limits, per-request
timeouts, retries with exponential backoff and jitter, an on-disk response cache, and token
and cost accounting. Evals never retry, sleep or count tokens themselves."""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tqdm.auto import tqdm

from sae_interp.llm.backend import LLMBackend
from sae_interp.llm.cache import ResponseCache, request_key
from sae_interp.llm.errors import LLMError, RetryableLLMError
from sae_interp.llm.pricing import cost_usd, price_of
from sae_interp.llm.types import LLMRequest, LLMResponse, Usage

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class UsageReport:
    calls: int = 0  # answered by the backend
    cached: int = 0  # answered from the cache
    failed: int = 0
    retries: int = 0
    usage: Usage = field(default_factory=Usage)  # tokens actually paid for
    cost_usd: float = 0.0
    priced: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "cached": self.cached,
            "failed": self.failed,
            "retries": self.retries,
            "prompt_tokens": self.usage.prompt_tokens,
            "completion_tokens": self.usage.completion_tokens,
            "cost_usd": round(self.cost_usd, 6),
            "priced": self.priced,
        }


def estimate_usage(request: LLMRequest) -> Usage:
    """A rough upper estimate for dry runs: ~4 characters per prompt token, full max_tokens."""
    chars = sum(len(m.content) for m in request.messages)
    return Usage(
        prompt_tokens=chars // 4 + 4 * len(request.messages), completion_tokens=request.max_tokens
    )


class _LoopThread:
    """One event loop running in a daemon thread for the service's whole life: async
    clients (httpx pools) stay bound to a single live loop, and sync callers (including
    notebooks, which already run a loop) submit work to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, daemon=True, name="sae-interp-llm"
        )
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


class LLMService:
    def __init__(
        self,
        backend: LLMBackend,
        *,
        concurrency: int = 8,
        max_retries: int = 5,
        timeout_s: float = 120.0,
        cache: ResponseCache | None = None,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        seed: int = 0,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.backend = backend
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self.cache = cache
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self._sleep = sleep
        self._rng = random.Random(seed)
        self.report = UsageReport(priced=price_of(backend.model) is not None)
        self._loop: _LoopThread | None = None

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(self.backoff_max_s, retry_after)
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2**attempt)
        return ceiling * (0.5 + 0.5 * self._rng.random())  # jitter in [50%, 100%]

    async def complete(
        self, request: LLMRequest, semaphore: asyncio.Semaphore | None = None
    ) -> LLMResponse:
        key = request_key(self.backend.identity(), request)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            self.report.cached += 1
            return hit
        gate = semaphore or asyncio.Semaphore(self.concurrency)
        async with gate:
            for attempt in range(self.max_retries + 1):
                try:
                    response = await asyncio.wait_for(
                        self.backend.complete(request), self.timeout_s
                    )
                except asyncio.TimeoutError:
                    error: RetryableLLMError = RetryableLLMError(
                        f"no answer within {self.timeout_s:g} s"
                    )
                except RetryableLLMError as err:
                    error = err
                except LLMError:
                    self.report.failed += 1
                    raise
                else:
                    self._account(response)
                    if self.cache is not None:
                        self.cache.put(key, response)
                    return response
                if attempt == self.max_retries:
                    self.report.failed += 1
                    raise LLMError(f"gave up after {attempt + 1} attempts: {error}")
                self.report.retries += 1
                delay = self.backoff(attempt, error.retry_after)
                logger.debug("LLM call failed (%s); retry %d in %.1f s", error, attempt + 1, delay)
                await self._sleep(delay)
        raise AssertionError("unreachable")

    def _account(self, response: LLMResponse) -> None:
        self.report.calls += 1
        self.report.usage = self.report.usage + response.usage
        self.report.cost_usd += cost_usd(self.backend.model, response.usage)

    async def complete_many(
        self, requests: Sequence[LLMRequest], progress: bool = False, desc: str = "LLM calls"
    ) -> list[LLMResponse | LLMError]:
        """All requests, at most ``concurrency`` in flight; a failure is returned in its slot
        (as an LLMError) instead of aborting the others."""
        semaphore = asyncio.Semaphore(self.concurrency)
        bar = tqdm(total=len(requests), desc=desc, disable=not progress, leave=False)

        async def one(request: LLMRequest) -> LLMResponse | LLMError:
            try:
                return await self.complete(request, semaphore)
            except LLMError as err:
                return err
            finally:
                bar.update(1)

        try:
            return list(await asyncio.gather(*(one(r) for r in requests)))
        finally:
            bar.close()

    def complete_all(
        self, requests: Sequence[LLMRequest], progress: bool = False, desc: str = "LLM calls"
    ) -> list[LLMResponse | LLMError]:
        """Sync front door of :meth:`complete_many` (runs on the service's own loop)."""
        if self._loop is None:
            self._loop = _LoopThread()
        return self._loop.run(self.complete_many(requests, progress=progress, desc=desc))

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
            self._loop = None
