"""The LLM layer every eval talks to: one backend behind a concurrency limit, per-request
timeouts, retries with exponential backoff and jitter, an on-disk response cache, and token
and cost accounting. Evals never retry, sleep or count tokens themselves.

Failures are classified (:class:`~sae_interp.llm.errors.FailureKind`) and counted by kind.
Retryable ones are retried; permanent ones are returned in their slot, and a run that cannot
succeed (a bad key, an unknown model, an unreachable endpoint) is stopped early with
:class:`~sae_interp.llm.errors.LLMRunAborted`. The limit is one work queue for the whole
service: every call, from any thread, waits for the same ``concurrency`` slots, so callers
that submit work from several threads keep the backend saturated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from typing import Any, TypeVar

from tqdm.auto import tqdm

from sae_interp.llm.cache import ResponseCache, request_key
from sae_interp.llm.errors import FailureKind, LLMError, LLMRunAborted, RetryableLLMError
from sae_interp.llm.limits import SharedLimit
from sae_interp.llm.pricing import cost_usd, price_of
from sae_interp.llm.report import FlightMeter, UsageReport
from sae_interp.llm.types import LLMBackend, LLMRequest, LLMResponse, Usage

logger = logging.getLogger(__name__)

T = TypeVar("T")

Validator = Callable[[LLMResponse], str | None]
"""Returns why an answer is unusable (it is then asked again and never cached), or None."""

Deferral = Callable[[str, LLMRequest], LLMError | None]
"""Batch mode: given a request the cache cannot answer (and its key), the error that stands
in its slot (its answer awaits a batch), or None to send it now."""

CHECK_SETTINGS = (
    "Check the endpoint, the model name and the API key "
    "(--llm-base-url, --llm-model, --llm-api-key-env)."
)
ABORT_AFTER = 3  # permanent failures in a row (or exhausted calls before any success)


def estimate_usage(request: LLMRequest) -> Usage:
    """A rough upper estimate for dry runs: ~4 characters per prompt token, full max_tokens."""
    chars = sum(len(m.content) for m in request.messages) + len(request.prompt or "")
    return Usage(
        prompt_tokens=chars // 4 + 4 * len(request.messages), completion_tokens=request.max_tokens
    )


_RECORDER = threading.local()


@contextlib.contextmanager
def recorded_failures() -> Iterator[dict[LLMRequest, LLMError]]:
    """Collect the requests whose final answer was an error (after retries) in the calls
    that this thread makes to any service's :meth:`LLMService.complete_all` inside the
    block, so the caller can tell which of its items failed (and not store them)."""
    outer = getattr(_RECORDER, "failed", None)
    failed: dict[LLMRequest, LLMError] = {}
    _RECORDER.failed = failed
    try:
        yield failed
    finally:
        _RECORDER.failed = outer
        if outer is not None:
            outer.update(failed)


@contextlib.contextmanager
def recorded_usage() -> Iterator[dict[str, int]]:
    """Count the answers (``calls``) and their tokens that this thread receives from any
    service's :meth:`LLMService.complete_all` inside the block: one latent's own usage when
    several latents share a service at once (a service's report sums every thread's)."""
    outer = getattr(_RECORDER, "usage", None)
    used = {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
    _RECORDER.usage = used
    try:
        yield used
    finally:
        _RECORDER.usage = outer
        if outer is not None:
            for key, value in used.items():
                outer[key] += value


def _record(requests: Sequence[LLMRequest], answers: Sequence[LLMResponse | LLMError]) -> None:
    failed = getattr(_RECORDER, "failed", None)
    for request, answer in zip(requests, answers, strict=True):
        if isinstance(answer, LLMError):
            if failed is not None:
                failed[request] = answer
        else:
            _count_used(answer.usage)


def _count_used(usage: Usage) -> None:
    """One answered call and its tokens, in this thread's :func:`recorded_usage` (if any)."""
    used = getattr(_RECORDER, "usage", None)
    if used is not None:
        used["calls"] += 1
        used["prompt_tokens"] += usage.prompt_tokens
        used["completion_tokens"] += usage.completion_tokens


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
        max_invalid_retries: int = 0,
        timeout_s: float = 120.0,
        cache: ResponseCache | None = None,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        seed: int = 0,
        abort_after: int | None = ABORT_AFTER,
        defer: Deferral | None = None,
        shared: SharedLimit | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.backend = backend
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.max_invalid_retries = max_invalid_retries
        self.timeout_s = timeout_s
        self.cache = cache
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.abort_after = abort_after
        self.defer = defer
        self.shared = shared  # a limit held with other processes (Ray workers), if any
        self._sleep = sleep
        self._rng = random.Random(seed)
        price = price_of(backend.model)
        self.report = UsageReport(priced=price is not None, price_per_mtok=price)
        # called after each answered call is counted (a shard keeps its usage as it goes)
        self.on_call: list[Callable[[], None]] = []
        self.flight = FlightMeter()
        self._loop: _LoopThread | None = None
        self._loop_lock = threading.Lock()
        self._gates: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        self._aborted: LLMRunAborted | None = None
        self._permanent_in_a_row = 0
        self._exhausted_before_success = 0
        self._bad_before_success = 0

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(self.backoff_max_s, retry_after)
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2**attempt)
        return ceiling * (0.5 + 0.5 * self._rng.random())  # jitter in [50%, 100%]

    def _gate(self) -> asyncio.Semaphore:
        """The service-wide limit (one semaphore per event loop it is used from)."""
        loop = asyncio.get_running_loop()
        if loop not in self._gates:
            self._gates[loop] = asyncio.Semaphore(self.concurrency)
        return self._gates[loop]

    def key(self, request: LLMRequest) -> str:
        return request_key(self.backend.identity(), request)

    def evict(self, request: LLMRequest) -> bool:
        """Drop ``request``'s cached answer (one the caller found unusable): a rerun asks
        again. True if an answer was cached."""
        return self.cache.evict(self.key(request)) if self.cache is not None else False

    async def complete(
        self,
        request: LLMRequest,
        semaphore: asyncio.Semaphore | None = None,
        validate: Validator | None = None,
    ) -> LLMResponse:
        """One answer, or an :class:`LLMError` whose ``kind`` says why not. An answer that
        ``validate`` rejects is asked again up to ``max_invalid_retries`` times; the last one
        is returned (the caller records it as unparsable) but never cached."""
        self._check_aborted()
        key = self.key(request)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            if validate is None or validate(hit) is None:
                self.report.cached += 1
                return hit
            self.cache.evict(key)  # stored before validation existed: ask again
            if self.defer is not None:  # a batch's answer the caller cannot read
                self._count_failure(FailureKind.invalid_answer)
                return hit  # never cached; the next command asks again
        if self.defer is not None and (held := self.defer(key, request)) is not None:
            if held.kind is not FailureKind.batch_pending:
                self._count_failure(held.kind)
            raise held
        gate = semaphore or self._gate()
        attempt = invalid = 0
        while True:
            async with gate:
                self._check_aborted()
                lease = await self.shared.acquire() if self.shared is not None else None
                try:
                    with self.flight.in_flight():
                        outcome = await self._attempt(request)
                finally:
                    if self.shared is not None:
                        await self.shared.release(lease)
            if isinstance(outcome, LLMResponse):
                self._account(outcome)
                problem = validate(outcome) if validate is not None else None
                if problem is None:
                    self._succeeded()
                    if self.cache is not None:
                        self.cache.put(key, outcome)
                    return outcome
                if invalid >= self.max_invalid_retries:
                    self._count_failure(FailureKind.invalid_answer)
                    return outcome
                invalid += 1
                self._count_retry(FailureKind.invalid_answer)
                continue
            error = outcome
            if not isinstance(error, RetryableLLMError):
                self._count_failure(error.kind)
                self._permanent(error)
                raise error
            if attempt >= self.max_retries:
                self._count_failure(error.kind)
                self._exhausted(error)
                raise LLMError(f"gave up after {attempt + 1} attempts: {error}", error.kind)
            self._count_retry(error.kind)
            delay = self.backoff(attempt, error.retry_after)
            attempt += 1
            logger.debug("LLM call failed (%s); retry %d in %.1f s", error, attempt, delay)
            await self._sleep(delay)  # the slot is free while waiting

    async def _attempt(self, request: LLMRequest) -> LLMResponse | LLMError:
        try:
            return await asyncio.wait_for(self.backend.complete(request), self.timeout_s)
        except asyncio.TimeoutError:
            return RetryableLLMError(
                f"no answer within {self.timeout_s:g} s", kind=FailureKind.timeout
            )
        except LLMError as err:
            return err

    # ---- accounting and the early stop ----------------------------------------------------

    def _account(self, response: LLMResponse) -> None:
        self.report.calls += 1
        self.report.usage = self.report.usage + response.usage
        self.report.cost_usd += cost_usd(self.backend.model, response.usage)
        for callback in list(self.on_call):
            callback()

    def record_in_process(self, usage: Usage) -> None:
        """Work this process did itself for the same purpose (the offline simulator's prompt
        log-probs, computed from the model file): one call with its tokens, in the same report
        as the endpoint's calls and in the calling thread's :func:`recorded_usage`."""
        self._account(LLMResponse(text="", usage=usage))
        _count_used(usage)

    def _count_failure(self, kind: FailureKind) -> None:
        self.report.count_failure(kind)

    def _count_retry(self, kind: FailureKind) -> None:
        self.report.count_retry(kind)

    def _succeeded(self) -> None:
        self._permanent_in_a_row = 0

    def _permanent(self, error: LLMError) -> None:
        """A wrong key, model or URL fails every call: stop after ``abort_after`` in a row.
        A bad request may be one prompt's problem: stop only if nothing ever succeeded. A
        dead local server stops the run at once, with the error's own sentence."""
        if error.kind.fatal:
            self._abort(str(error))
            return
        if error.kind.stops_run:
            self._permanent_in_a_row += 1
            count = self._permanent_in_a_row
        elif error.kind is FailureKind.bad_request and not (
            self.report.calls or self.report.cached
        ):
            self._bad_before_success += 1
            count = self._bad_before_success
        else:
            return
        if self.abort_after is not None and count >= self.abort_after:
            self._abort(
                f"{count} LLM calls failed permanently ({error.kind.value}), the last with: "
                f"{error}. {CHECK_SETTINGS}"
            )

    def _exhausted(self, error: LLMError) -> None:
        if self.report.calls or self.report.cached:
            return
        self._exhausted_before_success += 1
        if self.abort_after is not None and self._exhausted_before_success >= self.abort_after:
            self._abort(
                f"the LLM endpoint never answered: {self._exhausted_before_success} calls "
                f"failed after {self.max_retries + 1} attempts each, the last with {error}"
            )

    def _abort(self, message: str) -> None:
        if self._aborted is None:
            self._aborted = LLMRunAborted(message)
            logger.debug("stopping the run: %s", self._aborted)  # the caller reports it

    def _check_aborted(self) -> None:
        if self._aborted is not None:
            raise self._aborted

    # ---- many requests --------------------------------------------------------------------

    async def complete_many(
        self,
        requests: Sequence[LLMRequest],
        progress: bool = False,
        desc: str = "LLM calls",
        validate: Validator | Sequence[Validator | None] | None = None,
    ) -> list[LLMResponse | LLMError]:
        """All requests through the service's queue; a failure is returned in its slot (as
        an LLMError with its ``kind``) instead of aborting the others. ``validate`` is one
        validator for all requests or one per request. Raises :class:`LLMRunAborted` when
        the run cannot succeed, including when every call failed and none ever succeeded."""
        validators = _per_request(validate, len(requests))
        bar = tqdm(total=len(requests), desc=desc, disable=not progress, leave=False)

        async def one(request: LLMRequest, check: Validator | None) -> LLMResponse | LLMError:
            try:
                return await self.complete(request, validate=check)
            except LLMError as err:
                return err
            finally:
                bar.update(1)

        try:
            results = await asyncio.gather(
                *(one(r, v) for r, v in zip(requests, validators, strict=True)),
                return_exceptions=True,
            )
        finally:
            bar.close()
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, LLMError):
                raise result
        answers: list[LLMResponse | LLMError] = list(results)  # type: ignore[arg-type]
        self._check_all_failed(answers)
        self._check_aborted()  # a batch whose last call stopped the run stops its caller too
        return answers

    def _check_all_failed(self, answers: Sequence[LLMResponse | LLMError]) -> None:
        failed = [a for a in answers if isinstance(a, LLMError)]
        unanswered = (FailureKind.other, FailureKind.batch_pending)
        classified = [a for a in failed if a.kind not in unanswered]
        never_answered = not (self.report.calls or self.report.cached)
        if answers and never_answered and len(classified) == len(answers):
            kinds = sorted({a.kind.value for a in classified})
            self._abort(
                f"every LLM call failed ({len(answers)} of {len(answers)}: "
                f"{', '.join(kinds)}); the first with {classified[0]}. {CHECK_SETTINGS}"
            )
            self._check_aborted()

    def complete_all(
        self,
        requests: Sequence[LLMRequest],
        progress: bool = False,
        desc: str = "LLM calls",
        validate: Validator | Sequence[Validator | None] | None = None,
    ) -> list[LLMResponse | LLMError]:
        """Sync front door of :meth:`complete_many` (runs on the service's own loop; safe to
        call from several threads at once, all sharing the one concurrency limit)."""
        with self._loop_lock:
            if self._loop is None:
                self._loop = _LoopThread()
        answers = self._loop.run(
            self.complete_many(requests, progress=progress, desc=desc, validate=validate)
        )
        _record(requests, answers)
        return answers

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
            self._loop = None


def _per_request(
    validate: Validator | Sequence[Validator | None] | None, n: int
) -> list[Validator | None]:
    if validate is None or callable(validate):
        return [validate] * n
    validators = list(validate)
    if len(validators) != n:
        raise ValueError(f"{len(validators)} validators for {n} requests")
    return validators


__all__ = [
    "LLMService",
    "UsageReport",
    "Validator",
    "estimate_usage",
    "recorded_failures",
    "recorded_usage",
]
