"""A scripted backend for tests: answers come from a function of the request (or a queue),
and failures can be injected to exercise retries, timeouts and malformed output."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sae_interp.llm.types import LLMRequest, LLMResponse, Usage

Reply = str | LLMResponse | BaseException
Script = Callable[[LLMRequest], Reply]


@dataclass
class ScriptedBackend:
    script: Script | Iterable[Reply]
    model: str = "scripted"
    delay_s: float = 0.0
    calls: list[LLMRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue = None if callable(self.script) else list(self.script)
        self.in_flight = 0
        self.max_in_flight = 0

    def identity(self) -> str:
        return f"scripted:{self.model}"

    async def complete(self, request: LLMRequest) -> LLMResponse:
        self.calls.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if self._queue is not None:
                if not self._queue:
                    raise AssertionError("scripted backend ran out of replies")
                reply = self._queue.pop(0)
            else:
                reply = self.script(request)  # type: ignore[operator]
            if isinstance(reply, BaseException):
                raise reply
            if isinstance(reply, LLMResponse):
                return reply
            words = sum(len(m.content.split()) for m in request.messages)
            return LLMResponse(
                text=reply,
                usage=Usage(prompt_tokens=words, completion_tokens=len(reply.split())),
                model=self.model,
            )
        finally:
            self.in_flight -= 1
