"""A loopback stand-in for OpenAI's Batch API, for tests of batch mode.

It serves what the openai SDK's batch calls use: file upload (multipart), file and file
content, batch create, retrieve, list and cancel; and the synchronous chat and completions
endpoints, answered by the same function, so a batched run and a synchronous run can be
compared answer for answer. A batch moves one state per look (``retrieve``): validating,
in_progress, then its end. What happens to each batch is scripted by a :class:`BatchPlan`,
taken in the order the batches are created:

- ``end="completed"``: every line answered, except the lines ``fail`` picks, which go to
  the error file with status 500;
- ``end="expired"``: the first ``answered`` lines are answered, the rest go to the error
  file with the code ``batch_expired``;
- ``end="failed"``: the batch fails validation; no output, no error file.

``on_create`` runs in the server thread when a batch is created, before the client hears of
it (a test kills its client there).

    with FakeBatchAPI(script) as api:  # or FakeBatchAPI(answer=forward_to(server_url))
        ... --llm-base-url api.base_url --llm-batch ...
        api.created  # the batches created, in order
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
import urllib.request
from collections.abc import Callable, Sequence
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from sae_interp.llm.scripted import Script
from sae_interp.llm.types import ChatMessage, LLMRequest, LLMResponse
from sae_interp.testing.fault_server import chat_completion_body, text_completion_body


@dataclasses.dataclass(frozen=True)
class BatchPlan:
    end: str = "completed"  # completed | expired | failed
    answered: int | None = None  # expired: lines answered before the end
    fail: Callable[[int, str], bool] = lambda index, key: False  # (line index, custom_id)
    looks_in_progress: int = 1  # looks that find it in_progress before it ends


Answerer = Callable[[str, dict[str, Any]], dict[str, Any]]
"""(endpoint path, request body) -> response body."""


def forward_to(base_url: str, timeout_s: float = 600.0) -> Answerer:
    """Answers each line by sending its body to a real OpenAI-compatible server at
    ``base_url`` (e.g. the local llama.cpp server)."""

    def answer(endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        url = base_url.rstrip("/") + endpoint.removeprefix("/v1")
        request = urllib.request.Request(
            url, json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return dict(json.loads(response.read()))

    return answer


def script_answerer(script: Script) -> Answerer:
    """Answers a chat body with ``script`` (a function of the request, as the scripted
    backend takes) and a completions body with the fault server's simulated levels."""

    def answer(endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        if endpoint.endswith("/completions") and "chat" not in endpoint:
            return text_completion_body(body, garbled=False)
        request = LLMRequest(
            messages=tuple(ChatMessage(**m) for m in body["messages"]),
            max_tokens=body.get("max_tokens", 256),
            temperature=body.get("temperature", 0.0),
            top_logprobs=body.get("top_logprobs", 0),
            stop=tuple(body.get("stop") or ()),
            seed=body.get("seed"),
        )
        reply = script(request)
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, LLMResponse):
            out = chat_completion_body(body, reply.text, 0)
            out["usage"] |= {
                "prompt_tokens": reply.usage.prompt_tokens,
                "completion_tokens": reply.usage.completion_tokens,
            }
            return out
        return chat_completion_body(body, reply, 0)

    return answer


class FakeBatchAPI:
    def __init__(
        self,
        script: Script | None = None,
        plans: Sequence[BatchPlan] = (),
        on_create: Callable[[dict[str, Any]], None] | None = None,
        answer: Answerer | None = None,
    ) -> None:
        if (script is None) == (answer is None):
            raise ValueError("give a script or an answerer")
        self.answer = answer or script_answerer(script)  # type: ignore[arg-type]
        self.plans = list(plans)
        self.on_create = on_create
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.created: list[str] = []  # batch ids, in the order they were created
        self.sync_requests = 0
        self.lines_answered = 0
        self._plan_of: dict[str, BatchPlan] = {}
        self._looks: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    # ---- the API --------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids)}"

    def _file(self, content: bytes, filename: str, purpose: str) -> dict[str, Any]:
        file_id = self._new_id("file")
        self.contents[file_id] = content
        self.files[file_id] = {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": 0,
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        return self.files[file_id]

    def create_batch(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if body.get("input_file_id") not in self.files:
                return 404, {"error": {"message": f"no file {body.get('input_file_id')}"}}
            batch_id = self._new_id("batch")
            n = self.contents[body["input_file_id"]].count(b"\n")
            self.batches[batch_id] = {
                "id": batch_id,
                "object": "batch",
                "endpoint": body["endpoint"],
                "input_file_id": body["input_file_id"],
                "completion_window": body.get("completion_window", "24h"),
                "status": "validating",
                "created_at": 0,
                "output_file_id": None,
                "error_file_id": None,
                "errors": None,
                "metadata": body.get("metadata"),
                "request_counts": {"total": n, "completed": 0, "failed": 0},
            }
            self._plan_of[batch_id] = self.plans.pop(0) if self.plans else BatchPlan()
            self._looks[batch_id] = 0
            self.created.append(batch_id)
        if self.on_create is not None:
            self.on_create(self.batches[batch_id])
        return 200, self.batches[batch_id]

    def look(self, batch_id: str) -> dict[str, Any]:
        """The batch as a retrieve finds it: one state further than the last look."""
        with self._lock:
            batch = self.batches[batch_id]
            plan = self._plan_of[batch_id]
            if batch["status"] == "validating":
                batch["status"] = "failed" if plan.end == "failed" else "in_progress"
                if plan.end == "failed":
                    batch["errors"] = {"object": "list", "data": [{"message": "invalid file"}]}
            elif batch["status"] == "in_progress":
                self._looks[batch_id] += 1
                if self._looks[batch_id] >= plan.looks_in_progress:
                    self._finish(batch, plan)
            elif batch["status"] == "cancelling":
                batch["status"] = "cancelled"
            return batch

    def _finish(self, batch: dict[str, Any], plan: BatchPlan) -> None:
        lines = [json.loads(x) for x in self.contents[batch["input_file_id"]].splitlines() if x]
        outputs, errors = [], []
        for i, line in enumerate(lines):
            key = line["custom_id"]
            if plan.end == "expired" and i >= (plan.answered or 0):
                error = {"code": "batch_expired", "message": "This request could not be executed "
                         "before the completion window expired."}  # fmt: skip
                errors.append({"id": f"r{i}", "custom_id": key, "response": None, "error": error})
            elif plan.fail(i, key):
                body = {"error": {"message": "internal error", "type": "server_error"}}
                response = {"status_code": 500, "request_id": f"q{i}", "body": body}
                errors.append(
                    {"id": f"r{i}", "custom_id": key, "response": response, "error": None}
                )
            else:
                answer = self.answer(line["url"], line["body"])
                self.lines_answered += 1
                response = {"status_code": 200, "request_id": f"q{i}", "body": answer}
                outputs.append(
                    {"id": f"r{i}", "custom_id": key, "response": response, "error": None}
                )

        def jsonl(rows: list[dict[str, Any]]) -> bytes:
            return b"".join(json.dumps(r).encode() + b"\n" for r in rows)

        if outputs:
            batch["output_file_id"] = self._file(jsonl(outputs), "output.jsonl", "batch_output")[
                "id"
            ]
        if errors:
            batch["error_file_id"] = self._file(jsonl(errors), "errors.jsonl", "batch_output")["id"]
        batch["status"] = plan.end
        batch["request_counts"] |= {"completed": len(outputs), "failed": len(errors)}

    # ---- HTTP -----------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = self.path.split("?")[0].strip("/").split("/")[1:]  # after "v1"
                with api._lock:
                    if parts == ["batches"]:
                        data = list(reversed(list(api.batches.values())))
                        self._json(200, {"object": "list", "data": data, "has_more": False})
                    elif len(parts) == 2 and parts[0] == "batches" and parts[1] in api.batches:
                        self._json(200, api.look(parts[1]))
                    elif len(parts) == 3 and parts[0] == "files" and parts[2] == "content":
                        self._send(200, api.contents[parts[1]], "application/octet-stream")
                    elif len(parts) == 2 and parts[0] == "files" and parts[1] in api.files:
                        self._json(200, api.files[parts[1]])
                    else:
                        self._json(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = self.path.split("?")[0].strip("/").split("/")[1:]
                if parts == ["files"]:
                    fields = _multipart(self.headers["Content-Type"], raw)
                    with api._lock:
                        made = api._file(fields["file"][1], fields["file"][0], "batch")
                    self._json(200, made)
                elif parts == ["batches"]:
                    self._json(*api.create_batch(json.loads(raw)))
                elif len(parts) == 3 and parts[0] == "batches" and parts[2] == "cancel":
                    with api._lock:
                        batch = api.batches[parts[1]]
                        if batch["status"] in ("validating", "in_progress"):
                            batch["status"] = "cancelling"
                    self._json(200, batch)
                elif parts in (["chat", "completions"], ["completions"]):
                    with api._lock:
                        api.sync_requests += 1
                    self._json(200, api.answer("/v1/" + "/".join(parts), json.loads(raw)))
                else:
                    self._json(404, {"error": {"message": f"no route {self.path}"}})

            def _json(self, status: int, payload: Any) -> None:
                self._send(status, json.dumps(payload).encode(), "application/json")

            def _send(self, status: int, data: bytes, kind: str) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client is gone (a test killed it)

        return Handler

    def __enter__(self) -> FakeBatchAPI:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


def _multipart(content_type: str, raw: bytes) -> dict[str, tuple[str, bytes]]:
    """The fields of a multipart/form-data body: name -> (filename, content)."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename() or ""
        payload = part.get_payload(decode=True)
        fields[str(name)] = (filename, payload if isinstance(payload, bytes) else b"")
    return fields
