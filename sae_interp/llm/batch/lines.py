"""Batch request and output lines: the JSONL format of OpenAI's Batch API, which ``vllm
run-batch`` reads and writes too.

A request line is ``{"custom_id", "method", "url", "body"}``, its ``custom_id`` the request's
response-cache key and its body exactly what the synchronous client would send. An output
line is ``{"custom_id", "response": {"status_code", "body"}, "error"}``. Request files are
split at the Batch API's limits: 50,000 lines or 200 MB per file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sae_interp.llm.errors import LLMError
from sae_interp.llm.openai_backend import request_body, response_from_body
from sae_interp.llm.types import LLMRequest, LLMResponse

MAX_LINES = 50_000
MAX_BYTES = 200 * 1024 * 1024
EXPIRED = "batch_expired"  # the error code of a line its batch did not reach in time


def request_lines(model: str, requests: Mapping[str, LLMRequest]) -> dict[str, list[bytes]]:
    """The request lines of ``requests`` (cache key -> request), grouped by endpoint: one
    batch serves one endpoint."""
    by_endpoint: dict[str, list[bytes]] = {}
    for key, request in requests.items():
        endpoint, body = request_body(model, request)
        line = {"custom_id": key, "method": "POST", "url": endpoint, "body": body}
        by_endpoint.setdefault(endpoint, []).append(json.dumps(line).encode() + b"\n")
    return by_endpoint


def split_lines(
    lines: Iterable[bytes], max_lines: int = MAX_LINES, max_bytes: int = MAX_BYTES
) -> Iterator[list[bytes]]:
    """``lines`` in consecutive files of at most ``max_lines`` lines and ``max_bytes``
    bytes (a single longer line gets a file of its own)."""
    chunk: list[bytes] = []
    size = 0
    for line in lines:
        if chunk and (len(chunk) >= max_lines or size + len(line) > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(line)
        size += len(line)
    if chunk:
        yield chunk


def request_keys(path: Path) -> list[str]:
    """The ``custom_id`` of every line of a request file."""
    with path.open("rb") as f:
        return [json.loads(line)["custom_id"] for line in f if line.strip()]


@dataclass(frozen=True)
class LineOutcome:
    """One output or error line: the answer, or why there is none."""

    key: str
    response: LLMResponse | None
    error: str | None = None
    code: str | None = None  # the error's code, e.g. batch_expired


def read_outcomes(endpoint: str, text: str) -> Iterator[LineOutcome]:
    """The outcome of every line of an output or error file of ``endpoint``'s batch."""
    for raw in text.splitlines():
        if not raw.strip():
            continue
        line = json.loads(raw)
        yield _outcome(endpoint, line)


def _outcome(endpoint: str, line: dict[str, Any]) -> LineOutcome:
    key = str(line["custom_id"])
    response = line.get("response") or {}
    error = line.get("error")
    status = response.get("status_code")
    if error or status != 200:
        body = response.get("body") or {}
        detail = error or body.get("error") or {}
        message = detail.get("message") if isinstance(detail, dict) else str(detail)
        code = detail.get("code") if isinstance(detail, dict) else None
        return LineOutcome(key, None, f"{message or 'failed'} (status {status})", code)
    try:
        return LineOutcome(key, response_from_body(endpoint, response["body"]))
    except LLMError as err:
        return LineOutcome(key, None, str(err), "malformed_response")
