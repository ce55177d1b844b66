import asyncio
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from sae_interp.llm import (
    LLMError,
    LLMRequest,
    LLMResponse,
    LLMService,
    OpenAICompatibleBackend,
    ResponseCache,
    RetryableLLMError,
    ScriptedBackend,
    Usage,
    cost_usd,
    estimate_usage,
    register_price,
)


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def req(text: str = "hello", **kw) -> LLMRequest:
    return LLMRequest.chat("system prompt", text, **kw)


def test_retries_with_exponential_backoff_and_jitter() -> None:
    backend = ScriptedBackend([RetryableLLMError("429"), RetryableLLMError("503"), "ok"])
    sleep = FakeSleep()
    service = LLMService(backend, max_retries=3, backoff_base_s=2.0, sleep=sleep)
    (response,) = service.complete_all([req()])
    assert isinstance(response, LLMResponse) and response.text == "ok"
    assert service.report.retries == 2 and service.report.calls == 1 and service.report.failed == 0
    assert 1.0 <= sleep.delays[0] <= 2.0 and 2.0 <= sleep.delays[1] <= 4.0


def test_retry_after_is_honoured() -> None:
    sleep = FakeSleep()
    service = LLMService(
        ScriptedBackend([RetryableLLMError("429", retry_after=7.0), "ok"]), sleep=sleep
    )
    service.complete_all([req()])
    assert sleep.delays == [7.0]


def test_gives_up_and_keeps_other_results() -> None:
    def script(request: LLMRequest):  # type: ignore[no-untyped-def]
        return RetryableLLMError("down") if "bad" in request.messages[-1].content else "fine"

    service = LLMService(ScriptedBackend(script), max_retries=2, sleep=FakeSleep())
    good, bad = service.complete_all([req("good"), req("bad")])
    assert isinstance(good, LLMResponse) and good.text == "fine"
    assert isinstance(bad, LLMError) and "gave up after 3 attempts" in str(bad)
    assert service.report.failed == 1 and service.report.retries == 2


def test_fatal_errors_are_not_retried() -> None:
    backend = ScriptedBackend([LLMError("401 bad key")])
    service = LLMService(backend, sleep=FakeSleep())
    (result,) = service.complete_all([req()])
    assert isinstance(result, LLMError) and len(backend.calls) == 1


def test_timeouts_are_retried() -> None:
    calls = {"n": 0}

    class Slow(ScriptedBackend):
        async def complete(self, request):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == 1:
                await asyncio.sleep(1.0)
            return await super().complete(request)

    service = LLMService(Slow(lambda r: "late but fine"), timeout_s=0.05, sleep=FakeSleep())
    (response,) = service.complete_all([req()])
    assert isinstance(response, LLMResponse) and calls["n"] == 2 and service.report.retries == 1


def test_concurrency_limit() -> None:
    backend = ScriptedBackend(lambda r: "x", delay_s=0.02)
    service = LLMService(backend, concurrency=3)
    results = service.complete_all([req(str(i)) for i in range(12)])
    assert all(isinstance(r, LLMResponse) for r in results)
    assert backend.max_in_flight == 3


def test_response_cache(tmp_path: Path) -> None:
    backend = ScriptedBackend(lambda r: f"answer to {r.messages[-1].content}")
    cache = ResponseCache(tmp_path / "llm.sqlite")
    service = LLMService(backend, cache=cache)
    first = service.complete_all([req("a"), req("b")])
    again = LLMService(backend, cache=ResponseCache(tmp_path / "llm.sqlite")).complete_all(
        [req("a"), req("c")]
    )
    assert [r.text for r in first] == ["answer to a", "answer to b"]  # type: ignore[union-attr]
    assert again[0].cached and not again[1].cached  # type: ignore[union-attr]
    assert len(backend.calls) == 3
    other_model = LLMService(ScriptedBackend(lambda r: "other", model="m2"), cache=cache)
    assert other_model.complete_all([req("a")])[0].text == "other"  # type: ignore[union-attr]


def test_failures_are_not_cached(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite")
    LLMService(ScriptedBackend([LLMError("no")]), cache=cache).complete_all([req()])
    assert len(cache) == 0


def test_cost_accounting() -> None:
    register_price("test-model", 1.0, 2.0)
    assert cost_usd("test-model", Usage(prompt_tokens=1_000_000, completion_tokens=500_000)) == 2.0
    assert cost_usd("router/test-model", Usage(prompt_tokens=1_000_000)) == 1.0
    reply = LLMResponse(text="x", usage=Usage(prompt_tokens=3000, completion_tokens=1000))
    service = LLMService(ScriptedBackend([reply, reply], model="test-model"))
    service.complete_all([req("1"), req("2")])
    assert service.report.usage == Usage(prompt_tokens=6000, completion_tokens=2000)
    assert service.report.cost_usd == pytest.approx(0.01)
    assert not LLMService(ScriptedBackend(["x"], model="unknown-model")).report.priced


def test_dry_run_estimate() -> None:
    estimate = estimate_usage(LLMRequest.chat(None, "x" * 400, max_tokens=50))
    assert estimate.prompt_tokens == 104 and estimate.completion_tokens == 50


def test_complete_all_inside_a_running_loop() -> None:
    """Notebooks already run an event loop; the sync front door must still work there."""

    async def outer() -> str:
        service = LLMService(ScriptedBackend(["inner"]))
        return service.complete_all([req()])[0].text  # type: ignore[union-attr]

    assert asyncio.run(outer()) == "inner"


class _Handler(BaseHTTPRequestHandler):
    script: ClassVar[dict[str, list[tuple[int, dict]]]] = {}  # user message -> replies
    seen: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Handler.seen.append({"body": body, "auth": self.headers.get("Authorization")})
        status, payload = _Handler.script[body["messages"][-1]["content"]].pop(0)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("retry-after", "0")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
        pass


def _completion(text: str) -> dict:
    return {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "served-model",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": text},
                "logprobs": {
                    "content": [
                        {
                            "token": "Yes",
                            "logprob": -0.1,
                            "bytes": None,
                            "top_logprobs": [
                                {"token": "Yes", "logprob": -0.1, "bytes": None},
                                {"token": "No", "logprob": -2.4, "bytes": None},
                            ],
                        }
                    ]
                },
            }
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 1, "total_tokens": 12},
    }


@pytest.fixture
def loopback_url():  # type: ignore[no-untyped-def]
    """A scripted OpenAI-compatible server on 127.0.0.1; yields its base URL."""
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Handler.seen = []
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1"
    finally:
        server.shutdown()


def test_openai_compatible_endpoint_on_loopback(
    monkeypatch, caplog, tmp_path: Path, loopback_url: str
) -> None:
    secret = "sk-test-SECRET-0123456789abcdef"
    monkeypatch.setenv("MY_LLM_KEY", secret)
    _Handler.script = {
        "judge": [(429, {"error": {"message": "slow down"}}), (200, _completion("Yes"))],
        "other": [(400, {"error": {"message": "bad"}})],
    }
    caplog.set_level(logging.DEBUG)
    backend = OpenAICompatibleBackend(
        "served-model", base_url=loopback_url, api_key_env="MY_LLM_KEY"
    )
    cache = ResponseCache(tmp_path / "c.sqlite")
    service = LLMService(backend, cache=cache, sleep=FakeSleep())
    ok, bad = service.complete_all([req("judge", top_logprobs=2, max_tokens=1), req("other")])
    assert isinstance(ok, LLMResponse) and ok.text == "Yes" and ok.usage.prompt_tokens == 11
    assert ok.logprobs is not None and ok.logprobs[0].top == {"Yes": -0.1, "No": -2.4}
    assert isinstance(bad, LLMError) and "400" in str(bad)
    assert service.report.retries == 1
    judged = [s for s in _Handler.seen if s["body"]["messages"][-1]["content"] == "judge"]
    assert len(judged) == 2 and len(_Handler.seen) == 3  # one retry, no retry of the 400
    assert judged[0]["body"]["top_logprobs"] == 2 and judged[0]["body"]["logprobs"] is True
    assert judged[0]["auth"] == f"Bearer {secret}"  # the key goes to the server only
    assert secret not in caplog.text
    assert secret not in (tmp_path / "c.sqlite").read_bytes().decode(errors="ignore")
    assert secret not in backend.identity()


def test_missing_key_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    with pytest.raises(LLMError, match="NO_SUCH_KEY_VAR"):
        OpenAICompatibleBackend("gpt-4o-mini", api_key_env="NO_SUCH_KEY_VAR")


def test_settings_resolve_backend_and_stable_identity() -> None:
    from sae_interp.llm.settings import LLMSettings

    assert LLMSettings().resolved_backend() == "local"
    assert LLMSettings(model="gpt-4o-mini").resolved_backend() == "openai"
    assert (
        LLMSettings(base_url="http://h:1/v1", model="m").identity()
        == "openai-compatible:http://h:1/v1:m"
    )
    local = LLMSettings().identity()
    assert local.startswith("local-llama.cpp:") and "127.0.0.1" not in local  # no ephemeral port
    assert LLMSettings(model="gpt-4o").model_name() == "gpt-4o"


def test_open_service_uses_registry_and_cache(tmp_path: Path) -> None:
    from sae_interp.llm.settings import LLM_BACKENDS, LLMSettings, open_service

    backend = ScriptedBackend(lambda r: "hi", model="reg-test")
    LLM_BACKENDS.register("reg-test", lambda settings, stack: backend, overwrite=True)
    with open_service(LLMSettings(backend="reg-test", concurrency=2)) as service:
        assert service.concurrency == 2 and service.cache is not None
        service.complete_all([req("x")])
    with open_service(LLMSettings(backend="reg-test")) as service:
        assert service.complete_all([req("x")])[0].cached  # type: ignore[union-attr]
    assert len(backend.calls) == 1
    with (
        pytest.raises(Exception, match="unknown LLM backend"),
        open_service(LLMSettings(backend="nope")),
    ):
        pass


def test_local_backend_identity_ignores_the_port(monkeypatch) -> None:
    import contextlib

    import sae_interp.llm.local as local
    from sae_interp.llm.settings import LLM_BACKENDS, LLMSettings

    class FakeServer:
        alias, base_url = "alias", "http://127.0.0.1:54321/v1"
        serves_model_file = False

        def __init__(self, logits_all: bool = True) -> None:
            self.logits_all = logits_all

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc) -> None:  # type: ignore[no-untyped-def]
            pass

    monkeypatch.setattr(local, "LocalLlamaServer", FakeServer)
    with contextlib.ExitStack() as stack:
        backend = LLM_BACKENDS.get("local")(LLMSettings(), stack)
    assert backend.identity() == LLMSettings().identity() and "54321" not in backend.identity()
    assert backend.server.logits_all is False  # generation keeps no per-token logits


def test_repeated_calls_reuse_one_live_loop_for_async_clients(
    monkeypatch, loopback_url: str
) -> None:
    """Async HTTP clients bind to the loop they first ran on; every call must use it."""
    monkeypatch.setenv("LOOP_KEY", "sk-loop-test")
    _Handler.script = {
        "a": [(200, _completion("Yes"))],
        "b": [(200, _completion("No"))],
        "c": [(200, _completion("Yes"))],
    }
    service = LLMService(
        OpenAICompatibleBackend("m", base_url=loopback_url, api_key_env="LOOP_KEY")
    )
    results = [service.complete_all([req(text)])[0] for text in ("a", "b", "c")]
    service.close()
    assert [getattr(r, "text", r) for r in results] == ["Yes", "No", "Yes"]
