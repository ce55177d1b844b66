"""Scoring through an OpenAI-compatible *completions* server that echoes prompt log-probs
(vLLM, llama.cpp server, legacy OpenAI completions): the prompt is prefix + continuation,
``echo=True, logprobs=0``; tokens starting at or after the end of the prefix are the
continuation's.

Requests go through the same :class:`~sae_interp.llm.service.LLMService` as every chat call:
response cache, token accounting, retries of retryable failures, classified errors and
redacted error text. The API key comes from a named environment variable."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from sae_interp.llm.cache import ResponseCache, response_cache_path
from sae_interp.llm.errors import FailureKind, LLMError
from sae_interp.llm.openai_backend import OpenAICompatibleBackend
from sae_interp.llm.report import UsageReport
from sae_interp.llm.service import LLMService
from sae_interp.llm.types import LLMRequest, LLMResponse
from sae_interp.scoring_lm.base import TokenLogprobs

NO_ECHO = "the server returned no prompt log-probs (echo + logprobs needed)"


class CompletionsScoringLM:
    def __init__(
        self,
        model: str,
        base_url: str | None,
        api_key_env: str = "OPENAI_API_KEY",
        concurrency: int = 8,
        timeout_s: float = 120.0,
        cache: bool = True,
        service: LLMService | None = None,
    ) -> None:
        self.model, self.base_url, self.concurrency = model, base_url, concurrency
        if service is None:
            backend = OpenAICompatibleBackend(
                model, base_url, api_key_env, timeout_s, identity=self.identity()
            )
            store = ResponseCache(response_cache_path(backend.identity())) if cache else None
            service = LLMService(backend, concurrency=concurrency, timeout_s=timeout_s, cache=store)
        self.service = service

    def identity(self) -> str:
        return f"completions:{self.base_url or 'openai'}:{self.model}"

    def usage(self) -> UsageReport:
        """Calls, cache hits, failures by kind and tokens of this scoring LM so far."""
        return self.service.report

    def continuation_logprobs(
        self, prefix: str, continuations: Sequence[str]
    ) -> list[TokenLogprobs]:
        requests = [
            LLMRequest(
                messages=(),
                prompt=prefix + text,
                max_tokens=1,
                temperature=0.0,
                echo_logprobs=True,
            )
            for text in continuations
        ]
        answers = self.service.complete_all(requests, validate=_has_prompt_logprobs)
        return [
            _continuation(prefix, text, answer)
            for text, answer in zip(continuations, answers, strict=True)
        ]

    def close(self) -> None:
        self.service.close()
        if self.service.cache is not None:
            with contextlib.suppress(Exception):
                self.service.cache.close()


def _has_prompt_logprobs(answer: LLMResponse) -> str | None:
    return None if answer.prompt_logprobs else NO_ECHO


def _continuation(prefix: str, text: str, answer: LLMResponse | LLMError) -> TokenLogprobs:
    if isinstance(answer, LLMError):
        raise LLMError(f"scoring request failed: {answer}", answer.kind)
    if not answer.prompt_logprobs:
        raise LLMError(NO_ECHO, FailureKind.invalid_answer)
    end = len(prefix + text)
    values, offsets = [], []
    for token in answer.prompt_logprobs:
        if len(prefix) <= token.offset < end:
            if token.logprob is None:
                raise LLMError(
                    "the server gave no log-prob for a continuation token",
                    FailureKind.invalid_answer,
                )
            values.append(token.logprob)
            offsets.append(token.offset - len(prefix))
    return TokenLogprobs(values, offsets)
