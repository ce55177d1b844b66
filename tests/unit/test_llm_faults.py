"""The LLM layer under injected faults: classification, retries by kind, the early stop,
validators and the response cache, against the fault-injecting loopback server."""

import asyncio
import threading
import time

import pytest

from sae_interp.evals.common.latent_loop import run_overlapped
from sae_interp.llm import (
    FailureKind,
    LLMError,
    LLMRequest,
    LLMResponse,
    LLMRunAborted,
    LLMService,
    OpenAICompatibleBackend,
    ResponseCache,
    RetryableLLMError,
    ScriptedBackend,
    failure_counts,
)
from sae_interp.llm.errors import kind_of_status
from sae_interp.testing.fault_server import DEFAULT_FAULTS, GARBAGE, FaultServer, retries_match


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def req(text: str) -> LLMRequest:
    return LLMRequest.chat("system prompt", text)


def service_for(server: FaultServer, **kw) -> LLMService:  # type: ignore[no-untyped-def]
    backend = OpenAICompatibleBackend("m", base_url=server.base_url, api_key_env="NO_KEY_SET")
    kw.setdefault("sleep", FakeSleep())
    return LLMService(backend, **kw)


def not_garbage(answer: LLMResponse) -> str | None:
    return "garbage" if answer.text == GARBAGE else None


def test_http_statuses_are_classified() -> None:
    table = {
        429: FailureKind.rate_limited,
        500: FailureKind.server_error,
        503: FailureKind.server_error,
        408: FailureKind.server_error,
        401: FailureKind.auth,
        403: FailureKind.auth,
        404: FailureKind.not_found,
        400: FailureKind.bad_request,
        422: FailureKind.bad_request,
    }
    assert {status: kind_of_status(status) for status in table} == table
    assert [k.value for k in FailureKind if k.retryable] == [
        "timeout",
        "rate_limited",
        "server_error",
        "connection",
        "malformed_response",
        "invalid_answer",
    ]


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("rate_limited", "rate_limited"),
        ("server_error", "server_error"),
        ("hang", "timeout"),
        ("malformed", "malformed_response"),
        ("garbage", "invalid_answer"),
    ],
)
def test_each_fault_is_retried_and_counted_by_kind(fault: str, kind: str) -> None:
    with FaultServer(faults=(fault,), fault_first_n=1, hang_s=2.5) as server:
        sleep = FakeSleep()
        service = service_for(server, timeout_s=1.5, sleep=sleep, max_invalid_retries=1)
        (answer,) = service.complete_all([req('the word "cat"')], validate=not_garbage)
    assert isinstance(answer, LLMResponse) and answer.text.endswith("the token cat")
    assert service.report.retries_by_kind[kind] == 1 and service.report.retries == 1
    assert service.report.failed == 0 and server.injected == {fault: 1}
    if fault == "rate_limited":
        assert sleep.delays == [0.05]  # the server's Retry-After


def test_exhausted_retries_are_failures_of_their_kind() -> None:
    def script(request: LLMRequest):  # type: ignore[no-untyped-def]
        if "bad" in request.messages[-1].content:
            return RetryableLLMError("503", kind=FailureKind.server_error)
        return "fine"

    service = LLMService(ScriptedBackend(script), max_retries=1, sleep=FakeSleep())
    good, bad = service.complete_all([req("good"), req("bad")])
    assert isinstance(good, LLMResponse) and isinstance(bad, LLMError)
    assert bad.kind is FailureKind.server_error and "gave up after 2 attempts" in str(bad)
    assert failure_counts(service.report.as_dict()) == {"server_error": 1}
    assert service.report.retries_by_kind["server_error"] == 1


def test_permanent_errors_stop_the_run_after_a_few() -> None:
    with FaultServer(mode="auth") as server:
        service = service_for(server, concurrency=1)
        with pytest.raises(LLMRunAborted, match="auth") as info:
            service.complete_all([req(str(i)) for i in range(20)])
    assert server.requests == 3  # then every other call is refused without a request
    assert "--llm-api-key-env" in str(info.value)
    assert service.report.failed_by_kind["auth"] == 3


def test_a_run_where_every_call_failed_is_an_error() -> None:
    with FaultServer(fault_rate=1.0, faults=("server_error",)) as server:
        service = service_for(server, max_retries=1)
        with pytest.raises(LLMRunAborted, match="every LLM call failed"):
            service.complete_all([req("a"), req("b")])
    assert service.report.failed_by_kind["server_error"] == 2


def test_one_bad_request_among_good_ones_does_not_stop_the_run() -> None:
    def script(request: LLMRequest):  # type: ignore[no-untyped-def]
        if "bad" in request.messages[-1].content:
            return LLMError("400", FailureKind.bad_request)
        return "fine"

    service = LLMService(ScriptedBackend(script), concurrency=1, sleep=FakeSleep())
    answers = service.complete_all([req("good")] + [req(f"bad {i}") for i in range(5)])
    assert isinstance(answers[0], LLMResponse) and service.report.failed_by_kind["bad_request"] == 5


def test_rejected_answers_are_asked_again_and_never_cached(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache_path = tmp_path / "c.sqlite"
    with FaultServer(faults=("garbage",), fault_first_n=3) as server:
        first = service_for(server, cache=ResponseCache(cache_path), max_invalid_retries=2)
        (answer,) = first.complete_all([req('a "dog"')], validate=not_garbage)
        assert answer.text == GARBAGE  # type: ignore[union-attr]  # returned, for the record
        assert first.report.failed_by_kind["invalid_answer"] == 1 and len(first.cache) == 0  # type: ignore[arg-type]
        rerun = service_for(server, cache=ResponseCache(cache_path), max_invalid_retries=2)
        (again,) = rerun.complete_all([req('a "dog"')], validate=not_garbage)
    assert again.text.endswith("the token dog") and server.requests == 4  # type: ignore[union-attr]
    assert len(ResponseCache(cache_path)) == 1


def test_evict_forgets_one_cached_answer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    backend = ScriptedBackend(lambda r: "x")
    service = LLMService(backend, cache=ResponseCache(tmp_path / "c.sqlite"))
    service.complete_all([req("a"), req("b")])
    assert service.evict(req("a")) and not service.evict(req("a"))
    service.complete_all([req("a"), req("b")])
    assert len(backend.calls) == 3 and service.report.cached == 1


@pytest.mark.parametrize("keep_alive", [False, True])  # a connection per request, or kept open
def test_twenty_percent_faults_lose_nothing(keep_alive: bool) -> None:
    with FaultServer(fault_rate=0.2, seed=3, hang_s=2.0, keep_alive=keep_alive) as server:
        service = service_for(server, timeout_s=1.0, concurrency=8, max_invalid_retries=2)
        requests = [req(f'word "{i}"') for i in range(60)]
        answers = service.complete_all(requests, validate=not_garbage)
    assert [a.text for a in answers] == [  # type: ignore[union-attr]
        f"It fires on {i}.\n[EXPLANATION]: the token {i}" for i in range(60)
    ]
    assert retries_match(service.report.retries_by_kind, server.injected)
    assert service.report.failed == 0 and set(server.injected) == set(DEFAULT_FAULTS)


def test_overlapped_groups_keep_the_limit_busy() -> None:
    backend = ScriptedBackend(lambda r: "x", delay_s=0.03)
    service = LLMService(backend, concurrency=4)
    groups = [[req(f"{g}-{i}") for i in range(2)] for g in range(6)]
    finished: list[int] = []
    run_overlapped(
        groups,
        lambda group: service.complete_all(group),
        lambda group, answers: finished.append(len(answers)),
        overlap=2,
    )
    assert finished == [2] * 6 and backend.max_in_flight == 4  # two groups of 2 at once
    sequential = ScriptedBackend(lambda r: "x", delay_s=0.03)
    one = LLMService(sequential, concurrency=4)
    run_overlapped(groups, lambda g: one.complete_all(g), lambda g, a: None, overlap=1)
    assert sequential.max_in_flight == 2


def test_overlapped_groups_stop_at_the_first_error() -> None:
    seen: list[int] = []

    def work(group: int) -> int:
        if group == 1:
            raise LLMRunAborted("stop")
        time.sleep(0.01)
        return group

    with pytest.raises(LLMRunAborted):
        run_overlapped(range(10), work, lambda g, r: seen.append(r), overlap=2)
    assert len(seen) <= 2


def test_flight_meter_measures_mean_in_flight() -> None:
    backend = ScriptedBackend(lambda r: "x", delay_s=0.05)
    service = LLMService(backend, concurrency=4)
    start = service.flight.reading()
    service.complete_all([req(str(i)) for i in range(8)])  # two full waves of 4
    from sae_interp.llm.report import mean_in_flight

    assert 3.0 <= mean_in_flight(start, service.flight.reading()) <= 4.0
    assert service.flight.peak == 4


def test_complete_all_from_threads_shares_one_limit() -> None:
    backend = ScriptedBackend(lambda r: "x", delay_s=0.02)
    service = LLMService(backend, concurrency=3)
    threads = [
        threading.Thread(target=service.complete_all, args=([req(f"{t}-{i}") for i in range(4)],))
        for t in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(backend.calls) == 12 and backend.max_in_flight == 3
    asyncio.set_event_loop(None)


class ThreadLimit:
    """A limit two services in two threads (two event loops) share, as Ray workers share
    the limit actor."""

    def __init__(self, limit: int) -> None:
        self._slots = threading.Semaphore(limit)

    async def acquire(self) -> object:
        await asyncio.to_thread(self._slots.acquire)
        return None

    async def release(self, lease: object) -> None:
        self._slots.release()


def test_workers_hold_each_endpoint_to_its_own_limit_together() -> None:
    from sae_interp.llm.limits import use_shared_limits
    from sae_interp.llm.settings import LLMSettings, open_service

    limits: dict[str, ThreadLimit] = {}
    lock = threading.Lock()

    def factory(identity: str, limit: int) -> ThreadLimit:
        with lock:
            return limits.setdefault(identity, ThreadLimit(limit))

    with FaultServer(latency_s=0.05) as a, FaultServer(latency_s=0.05) as b:
        settings = LLMSettings(
            base_url=f"{a.base_url},{b.base_url}", model="m", concurrency=2, cache=False
        )

        def worker(n: int) -> None:
            requests = [LLMRequest.chat(None, f"w{n} q{i}") for i in range(16)]
            with open_service(settings) as service:
                assert all(not isinstance(x, LLMError) for x in service.complete_all(requests))

        use_shared_limits(factory)
        try:
            threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            use_shared_limits(None)
    assert len(limits) == 3  # the LLM's, and one per endpoint
    assert a.answered + b.answered == 32
    assert a.peak_in_flight == b.peak_in_flight == 2  # two workers, one limit of 2 each


def test_several_endpoints_share_the_requests_each_within_its_limit() -> None:
    from sae_interp.llm.settings import LLMSettings, open_service

    with FaultServer(latency_s=0.05) as a, FaultServer(latency_s=0.05) as b:
        settings = LLMSettings(
            base_url=f"{a.base_url}, {b.base_url}", model="m", concurrency=2, cache=False
        )
        assert settings.endpoints() == [a.base_url, b.base_url]
        assert settings.effective_concurrency() == 4  # 2 for each endpoint
        requests = [LLMRequest.chat(None, f"q{i}") for i in range(24)]
        with open_service(settings) as service:
            answers = service.complete_all(requests)
            spread = service.backend
        assert all(not isinstance(x, LLMError) for x in answers)
        assert a.answered + b.answered == 24 and min(a.answered, b.answered) >= 8
        assert spread.peak == [2, 2]  # each endpoint full, never over its own limit
    one = LLMSettings(base_url=a.base_url, model="m")
    assert settings.identity() != one.identity()
    with pytest.raises(ValueError, match="not an http"):
        LLMSettings(base_url="http://a/v1,b:8000", model="m")
