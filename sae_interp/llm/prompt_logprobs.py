"""Prompt log-probabilities from an OpenAI-compatible *completions* endpoint (llama.cpp
server, vLLM): the prompt is sent with ``echo=True`` and ``logprobs=k``, ``max_tokens=1``,
and the answer gives, for every prompt token, its text offset and the k most likely
alternatives. The simulator's all-at-once mode reads a whole window's predictions from one
such call. Errors are retried by the SDK, then returned in their slot as :class:`LLMError`
(never as an answer, never cached). Answers are cached in the chat service's response
cache when one is given. The API key comes from a named environment variable, never logged."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from pydantic import BaseModel, Field

from sae_interp.llm.cache import ResponseCache, request_key
from sae_interp.llm.errors import LLMError
from sae_interp.llm.types import LLMRequest, LLMResponse


class PromptLogprobs(BaseModel):
    """Per prompt token: its text, its character offset in the prompt and its top
    alternatives (token -> log-prob; None where the server gives none, e.g. the first)."""

    tokens: list[str]
    offsets: list[int]
    top: list[dict[str, float] | None]
    prompt_tokens: int = Field(default=0, description="Billed prompt tokens.")


class PromptLogprobsClient(Protocol):
    def identity(self) -> str: ...

    def prompt_logprobs(self, prompts: Sequence[str], top: int) -> list[PromptLogprobs | LLMError]:
        """One result per prompt, in order; failures in their slot."""
        ...


def cached(
    cache: ResponseCache | None,
    identity: str,
    prompt: str,
    top: int,
    compute: Callable[[str, int], PromptLogprobs | LLMError],
) -> PromptLogprobs | LLMError:
    """``compute(prompt, top)`` through the response cache (stored as a response whose text
    is the JSON of the log-probs; failures are not cached)."""
    request = LLMRequest.chat(None, prompt, max_tokens=1, top_logprobs=min(top, 20))
    key = request_key(identity, request)
    if cache is not None and (hit := cache.get(key)) is not None:
        return PromptLogprobs.model_validate_json(hit.text)
    answer = compute(prompt, top)
    if cache is not None and isinstance(answer, PromptLogprobs):
        cache.put(key, LLMResponse(text=answer.model_dump_json()))
    return answer


class CompletionsPromptLogprobs:
    def __init__(
        self,
        model: str,
        base_url: str | None,
        api_key_env: str = "OPENAI_API_KEY",
        concurrency: int = 4,
        timeout_s: float = 300.0,
        max_retries: int = 3,
        cache: ResponseCache | None = None,
    ) -> None:
        from openai import OpenAI

        key = os.environ.get(api_key_env)
        if key is None and base_url is None:
            raise LLMError(f"no API key: set the environment variable {api_key_env}")
        self.model, self.base_url, self.concurrency = model, base_url, concurrency
        self.calls = 0  # answered by the server (not from the cache)
        self.cache = cache
        self._client = OpenAI(
            api_key=key or "not-needed",
            base_url=base_url,
            timeout=timeout_s,
            max_retries=max_retries,
        )

    def identity(self) -> str:
        return f"completions:{self.base_url or 'openai'}:{self.model}"

    def _one(self, prompt: str, top: int) -> PromptLogprobs | LLMError:
        # cached like chat answers: as a response whose text is the JSON of the log-probs
        key = request_key(
            self.identity(), LLMRequest.chat(None, prompt, max_tokens=1, top_logprobs=top)
        )
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            return PromptLogprobs.model_validate_json(hit.text)
        answer = self._call(prompt, top)
        if self.cache is not None and isinstance(answer, PromptLogprobs):
            self.cache.put(key, LLMResponse(text=answer.model_dump_json()))
        return answer

    def _call(self, prompt: str, top: int) -> PromptLogprobs | LLMError:
        try:
            response: Any = self._client.completions.create(
                model=self.model,
                prompt=prompt,
                max_tokens=1,
                echo=True,
                logprobs=top,
                temperature=0.0,
            )
        except Exception as err:  # the SDK's errors carry no key; keep only the message
            return LLMError(f"prompt log-prob request failed: {type(err).__name__}: {err}")
        self.calls += 1
        lp = response.choices[0].logprobs if response.choices else None
        if lp is None or lp.text_offset is None or lp.top_logprobs is None:
            return LLMError("the server returned no prompt log-probs (echo + logprobs needed)")
        n = len(lp.text_offset)
        usage = getattr(response, "usage", None)
        return PromptLogprobs(
            tokens=list(lp.tokens or [""] * n),
            offsets=[int(o) for o in lp.text_offset],
            top=[dict(t) if t else None for t in lp.top_logprobs],
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        )

    def prompt_logprobs(self, prompts: Sequence[str], top: int) -> list[PromptLogprobs | LLMError]:
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(lambda prompt: self._one(prompt, top), prompts))
