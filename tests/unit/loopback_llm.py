"""A minimal OpenAI-compatible chat server on loopback for subprocess tests: answers come
from a function of the messages, every request is recorded, and a hook runs before each
answer (e.g. to kill the client at a scripted point)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Messages = tuple[tuple[str, str], ...]


class LoopbackLLM:
    def __init__(self, answer: Callable[[Messages], str]) -> None:
        self.answer = answer
        self.requests: list[Messages] = []  # every request received, in order
        self.answered: list[Messages] = []  # those that got an answer
        self.before_answer: Callable[[int], bool] = lambda n: True  # False: drop the request
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                messages = tuple((m["role"], m["content"]) for m in body["messages"])
                with server._lock:
                    server.requests.append(messages)
                    n = len(server.requests)
                    if not server.before_answer(n):
                        return  # the client is gone
                    text = server.answer(messages)
                    server.answered.append(messages)
                payload = json.dumps(
                    {
                        "id": f"c{n}",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": "stop",
                                "logprobs": None,
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> LoopbackLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
