"""LLM errors, classified by kind: the ones worth retrying and the ones that are not.

Every failed call carries a :class:`FailureKind`, so a run can count its failures by kind.
:class:`LLMRunAborted` is not an :class:`LLMError`: callers that record failed calls in their
results let it propagate, and the command line turns it into one message and a non-zero exit.
All error text that comes from an endpoint goes through
:func:`~sae_interp.base.logging.redact` first.
"""

from __future__ import annotations

from enum import Enum

from sae_interp.base.errors import SaeInterpError
from sae_interp.base.logging import redact


class FailureKind(str, Enum):
    """Why an LLM call failed. The first six are retried; the others are not."""

    timeout = "timeout"
    rate_limited = "rate_limited"
    server_error = "server_error"
    connection = "connection"
    malformed_response = "malformed_response"
    invalid_answer = "invalid_answer"  # the caller's validator rejected the answer
    auth = "auth"
    not_found = "not_found"
    bad_request = "bad_request"
    server_exited = "server_exited"  # the local server process this run started has died
    # batch mode (--llm-batch): the answer awaits a batch not collected yet (the latent is
    # left for the pass that collects it), or the batch returned an error for it twice
    batch_pending = "batch_pending"
    batch_failed = "batch_failed"
    other = "other"

    @property
    def retryable(self) -> bool:
        return self in RETRYABLE

    @property
    def stops_run(self) -> bool:
        """Kinds that will fail every later call too (wrong key, model or URL)."""
        return self in (FailureKind.auth, FailureKind.not_found)

    @property
    def fatal(self) -> bool:
        """Kinds after which no later call can succeed: the run stops at the first one."""
        return self is FailureKind.server_exited


RETRYABLE = frozenset(
    {
        FailureKind.timeout,
        FailureKind.rate_limited,
        FailureKind.server_error,
        FailureKind.connection,
        FailureKind.malformed_response,
        FailureKind.invalid_answer,
    }
)


def kind_of_status(status: int) -> FailureKind:
    """The failure kind of an HTTP error status."""
    if status == 429:
        return FailureKind.rate_limited
    if status in (408, 409, 425) or status >= 500:
        return FailureKind.server_error
    if status in (401, 403):
        return FailureKind.auth
    if status == 404:
        return FailureKind.not_found
    if 400 <= status < 500:
        return FailureKind.bad_request
    return FailureKind.other


class LLMError(SaeInterpError, RuntimeError):
    """A request failed for good (bad request, authentication, retries exhausted)."""

    def __init__(self, message: str, kind: FailureKind = FailureKind.other) -> None:
        super().__init__(redact(message))
        self.kind = kind


class RetryableLLMError(LLMError):
    """Rate limits, server errors, timeouts, dropped connections and malformed bodies."""

    def __init__(
        self,
        message: str,
        retry_after: float | None = None,
        kind: FailureKind = FailureKind.server_error,
    ) -> None:
        super().__init__(message, kind)
        self.retry_after = retry_after


class AnswersPending(Exception):
    """Raised by a stage whose later stages cannot be planned until a batch answers it
    (explanations awaited, in batch mode): the run stops on this SAE, nothing is saved, and
    the next pass goes on from the collected answers. Not an :class:`LLMError`: no latent
    fails."""


class LLMRunAborted(SaeInterpError, RuntimeError):
    """The run cannot succeed (bad key, unknown model, unreachable endpoint): stop it with
    one message instead of failing every remaining latent."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))
