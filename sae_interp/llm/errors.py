"""LLM errors, split into the ones worth retrying and the ones that are not."""

from __future__ import annotations

from sae_interp.core.errors import SaeInterpError


class LLMError(SaeInterpError, RuntimeError):
    """A request failed for good (bad request, authentication, retries exhausted)."""


class RetryableLLMError(LLMError):
    """Rate limits, server errors, timeouts and dropped connections: try again later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
