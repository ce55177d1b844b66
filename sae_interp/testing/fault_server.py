"""A loopback OpenAI-compatible chat server that injects faults, for tests and benchmarks.

Each request is answered after ``latency_s`` by ``responder`` (a function of the request's
messages), unless a fault is drawn: 429 with a Retry-After header, 500, a hang past the
client's timeout, a malformed (non-JSON) body, garbage text with HTTP 200, or (only when asked for) a 400 that echoes the caller's API key.
``fault_first_n`` makes the first n attempts of every request fail, cycling through
``faults``, for tests that need one exact sequence. Draws are
seeded and keyed on (request body, how many times that body was seen), so a run is
reproducible whatever order concurrent requests arrive in. ``mode="auth"`` answers 401 to
everything, echoing the caller's API key in the error text (as some proxies do).

Run as a process (``python -m sae_interp.testing.fault_server --port P --die-at N``) it
stands in for a local LLM server process that crashes on its N-th completion request.

    with FaultServer(fault_rate=0.2, seed=0) as server:
        ... OpenAICompatibleBackend("m", base_url=server.base_url) ...
        server.injected  # {"rate_limited": 3, "server_error": 5, ...}
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

FAULTS = ("rate_limited", "server_error", "hang", "malformed", "garbage", "echo_key")
DEFAULT_FAULTS = FAULTS[:5]  # echo_key: a 400 whose error text repeats the caller's key
GARBAGE = "I'd rather talk about the weather."

# the kind under which the LLM service counts each fault's retry
KIND_OF_FAULT = {
    "rate_limited": "rate_limited",
    "server_error": "server_error",
    "hang": "timeout",
    "malformed": "malformed_response",
    "garbage": "invalid_answer",
    "echo_key": "bad_request",
}

Responder = Callable[[list[dict[str, str]]], str]


def judge_responder(messages: list[dict[str, str]]) -> str:
    """Answers by looking at the request only: a 0/1 list with one '1' per excerpt when the
    last message shows excerpts, else an explanation naming the first quoted token."""
    last = messages[-1]["content"]
    n = sum(line.startswith("Excerpt") for line in last.splitlines())
    if n:
        return "[" + ", ".join(["1"] * n) + "]"
    token = last.split('"')[1] if last.count('"') >= 2 else "something"
    return f"It fires on {token}.\n[EXPLANATION]: the token {token}"


def retries_match(retries: dict[str, int], injected: dict[str, int]) -> bool:
    """Every injected (retryable) fault was retried once, under its kind. A loaded machine
    may add a client-side timeout of its own, so timeouts are at least the injected hangs."""
    expected = {KIND_OF_FAULT[f]: n for f, n in injected.items() if n}
    got = {k: v for k, v in retries.items() if v}
    timeouts = got.pop("timeout", 0)
    return timeouts >= expected.pop("timeout", 0) and got == expected


class FaultServer:
    def __init__(
        self,
        fault_rate: float = 0.0,
        seed: int = 0,
        faults: Sequence[str] = DEFAULT_FAULTS,
        fault_first_n: int = 0,
        responder: Responder = judge_responder,
        latency_s: float = 0.0,
        hang_s: float = 2.0,
        retry_after_s: float = 0.05,
        mode: str = "normal",
        keep_alive: bool = False,
        port: int = 0,
        die_at: int | None = None,
        die_signal: signal.Signals = signal.SIGSEGV,
    ) -> None:
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {FAULTS}")
        self.fault_rate, self.seed, self.faults = fault_rate, seed, tuple(faults)
        self.fault_first_n = fault_first_n
        self.responder, self.latency_s, self.hang_s = responder, latency_s, hang_s
        self.retry_after_s, self.mode = retry_after_s, mode
        # the process kills itself with die_signal on this completion request (1-based)
        self.die_at, self.die_signal = die_at, die_signal
        self.injected: Counter[str] = Counter()
        self.answered = 0
        self.requests = 0
        self.in_flight = 0
        self.peak_in_flight = 0  # most requests being answered at once
        self._seen: Counter[str] = Counter()
        self._prefixes: set[str] = set()
        self._lock = threading.Lock()
        # HTTP/1.1 keeps each client connection open across requests, as inference servers
        # do; the default HTTP/1.0 opens one connection (and one server thread) per request
        handler = self._handler()
        handler.protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    def prefix_cache(self, messages: list[dict[str, str]]) -> int:
        """Tokens (~4 characters each) a prefix-caching server would reuse: every message
        before the last, once an earlier request has sent the same ones."""
        prefix = json.dumps(messages[:-1])
        hit = prefix in self._prefixes
        self._prefixes.add(prefix)
        return sum(len(m["content"]) for m in messages[:-1]) // 4 if hit else 0

    def forget_prefixes(self) -> None:
        """Empty the simulated prefix cache (a fresh server)."""
        with self._lock:
            self._prefixes.clear()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    def draw(self, body: bytes) -> str | None:
        """The fault for this request (None: answer normally)."""
        with self._lock:
            self.requests += 1
            if self.die_at is not None and self.requests >= self.die_at:
                # to this thread: the process dies before this request is answered
                signal.pthread_kill(threading.get_ident(), self.die_signal)
            key = hashlib.sha256(body).hexdigest()
            self._seen[key] += 1
            nth = self._seen[key]
        if nth <= self.fault_first_n:
            fault = self.faults[(nth - 1) % len(self.faults)]
            with self._lock:
                self.injected[fault] += 1
            return fault
        digest = hashlib.sha256(f"{self.seed}:{key}:{nth}".encode()).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64
        if u >= self.fault_rate or not self.faults:
            return None
        fault = self.faults[int(u / self.fault_rate * len(self.faults)) % len(self.faults)]
        with self._lock:
            self.injected[fault] += 1
        return fault

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "loopback"}]})
                else:
                    self._json(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                with server._lock:
                    server.in_flight += 1
                    server.peak_in_flight = max(server.peak_in_flight, server.in_flight)
                try:
                    self._answer()
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _answer(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if server.mode == "auth":
                    with server._lock:
                        server.requests += 1
                    self._json(401, {"error": {"message": f"Incorrect API key provided: {key}"}})
                    return
                fault = server.draw(raw)
                if server.latency_s:
                    time.sleep(server.latency_s)
                if fault == "hang":
                    time.sleep(server.hang_s)
                if fault == "rate_limited":
                    headers = {"Retry-After": f"{server.retry_after_s:g}"}
                    self._json(429, {"error": {"message": "slow down"}}, headers)
                elif fault == "server_error":
                    self._json(500, {"error": {"message": "internal error"}})
                elif fault == "echo_key":
                    self._json(400, {"error": {"message": f"bad request from key {key}"}})
                elif fault == "malformed":
                    self._send(200, b'{"id": "x", "choices": [', "application/json")
                elif "prompt" in (body := json.loads(raw)):  # /v1/completions
                    with server._lock:
                        server.answered += 1
                    self._json(200, text_completion_body(body, garbled=fault == "garbage"))
                else:
                    text = GARBAGE if fault == "garbage" else server.responder(body["messages"])
                    with server._lock:
                        server.answered += 1
                        cached = server.prefix_cache(body["messages"])
                    self._json(200, chat_completion_body(body, text, cached))

            def _json(
                self, status: int, payload: Any, headers: dict[str, str] | None = None
            ) -> None:
                self._send(status, json.dumps(payload).encode(), "application/json", headers)

            def _send(
                self, status: int, data: bytes, kind: str, headers: dict[str, str] | None = None
            ) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a hang past its timeout)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> FaultServer:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def chat_completion_body(body: dict[str, Any], text: str, cached_tokens: int) -> dict[str, Any]:
    prompt_tokens = sum(len(m["content"]) for m in body["messages"]) // 4
    return {
        "id": "loopback",
        "object": "chat.completion",
        "created": 0,
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": text},
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(text) // 4,
            "total_tokens": prompt_tokens + len(text) // 4,
            "prompt_tokens_details": {"cached_tokens": cached_tokens},
        },
    }


def simulated_level(prompt: str, i: int) -> dict[str, float]:
    """The alternatives a completions server with ``echo`` lists at character ``i`` of an
    all-at-once simulation prompt: at each '?' after a tab, level 5 when the token on that
    line holds a vowel and 0 otherwise (a fixed, checkable answer); elsewhere no integer."""
    if prompt[i] == "?" and i and prompt[i - 1] == "\t":
        token = prompt[prompt.rfind("\n", 0, i) + 1 : i - 1]
        return {"5": -0.01, "0": -4.6} if any(c in "aeiou" for c in token) else {"0": -0.01}
    return {"x": -0.01}


def text_completion_body(body: dict[str, Any], garbled: bool) -> dict[str, Any]:
    """A /v1/completions answer. With ``echo`` and ``logprobs``: one token per character of
    the prompt with :func:`simulated_level`'s alternatives (none when ``garbled``, an answer
    that cannot be read)."""
    prompt = body["prompt"]
    logprobs = None
    if body.get("echo") and body.get("logprobs") is not None:
        logprobs = {
            "tokens": list(prompt),
            "text_offset": list(range(len(prompt))),
            "token_logprobs": [None] + [-0.01] * (len(prompt) - 1),
            "top_logprobs": [
                None if garbled else simulated_level(prompt, i) for i in range(len(prompt))
            ],
        }
    prompt_tokens = len(prompt) // 4
    return {
        "id": "loopback",
        "object": "text_completion",
        "created": 0,
        "model": body["model"],
        "choices": [{"index": 0, "text": " 0", "finish_reason": "length", "logprobs": logprobs}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": 1,
            "total_tokens": prompt_tokens + 1,
        },
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Serve the loopback judge on 127.0.0.1:PORT until killed: a stand-in for "
        "a local LLM server process in tests."
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--die-at",
        type=int,
        default=None,
        help="the completion request (1-based) on which "
        "the process kills itself with --signal, as a crashing server would",
    )
    parser.add_argument("--signal", default="SIGSEGV", help="signal name for --die-at")
    parser.add_argument("--latency-s", type=float, default=0.0)
    args = parser.parse_args(argv)
    server = FaultServer(
        port=args.port,
        die_at=args.die_at,
        die_signal=signal.Signals[args.signal],
        latency_s=args.latency_s,
    )
    server._server.serve_forever()


if __name__ == "__main__":
    main()
