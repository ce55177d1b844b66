"""The protocol every LLM backend implements: one async call, typed in and out.

Backends translate their own failures into :class:`RetryableLLMError` (worth retrying) or
:class:`LLMError` (not). Retries, concurrency, timeouts, caching and accounting are not the
backend's job: :class:`~sae_interp.llm.service.LLMService` does them for every backend.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from sae_interp.llm.types import LLMRequest, LLMResponse


@runtime_checkable
class LLMBackend(Protocol):
    model: str

    async def complete(self, request: LLMRequest) -> LLMResponse: ...

    def identity(self) -> str:
        """What distinguishes this backend's answers (model and endpoint); part of the
        cache key. Never includes credentials."""
        ...
