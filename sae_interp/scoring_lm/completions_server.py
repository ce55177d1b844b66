"""Scoring through an OpenAI-compatible *completions* server that echoes prompt log-probs
(vLLM, llama.cpp server, legacy OpenAI completions): the prompt is prefix + continuation,
``echo=True, logprobs=0``; tokens starting at or after the end of the prefix are the
continuation's. The API key comes from a named environment variable and is never logged."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sae_interp.llm.errors import LLMError
from sae_interp.scoring_lm.base import TokenLogprobs


class CompletionsScoringLM:
    def __init__(
        self,
        model: str,
        base_url: str | None,
        api_key_env: str = "OPENAI_API_KEY",
        concurrency: int = 8,
        timeout_s: float = 120.0,
    ) -> None:
        from openai import OpenAI

        key = os.environ.get(api_key_env)
        if key is None and base_url is None:
            raise LLMError(f"no API key: set the environment variable {api_key_env}")
        self.model, self.base_url, self.concurrency = model, base_url, concurrency
        self._client = OpenAI(
            api_key=key or "not-needed", base_url=base_url, timeout=timeout_s, max_retries=3
        )

    def identity(self) -> str:
        return f"completions:{self.base_url or 'openai'}:{self.model}"

    def _one(self, prefix: str, continuation: str) -> TokenLogprobs:
        try:
            response: Any = self._client.completions.create(
                model=self.model,
                prompt=prefix + continuation,
                max_tokens=1,
                echo=True,
                logprobs=0,
                temperature=0.0,
            )
        except Exception as err:  # the SDK's errors carry no key; keep only the message
            raise LLMError(f"scoring request failed: {type(err).__name__}: {err}") from None
        lp = response.choices[0].logprobs
        if lp is None or lp.text_offset is None or lp.token_logprobs is None:
            raise LLMError("the server returned no prompt log-probs (echo + logprobs needed)")
        end = len(prefix + continuation)
        values, offsets = [], []
        for offset, value in zip(lp.text_offset, lp.token_logprobs, strict=False):
            if len(prefix) <= offset < end:
                if value is None:
                    raise LLMError("the server gave no log-prob for a continuation token")
                values.append(float(value))
                offsets.append(int(offset) - len(prefix))
        return TokenLogprobs(values, offsets)

    def continuation_logprobs(
        self, prefix: str, continuations: Sequence[str]
    ) -> list[TokenLogprobs]:
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(lambda text: self._one(prefix, text), continuations))
