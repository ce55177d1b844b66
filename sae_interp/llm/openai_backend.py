"""Any OpenAI-compatible chat endpoint: OpenAI, vLLM, OpenRouter, Ollama, llama.cpp server.

The API key is read from an environment variable whose *name* is configured; the key itself
is never stored in a config, a result, a cache key or a log line.
"""

from __future__ import annotations

import os
from typing import Any

from sae_interp.llm.errors import LLMError, RetryableLLMError
from sae_interp.llm.types import LLMRequest, LLMResponse, TokenLogprob, Usage


class OpenAICompatibleBackend:
    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout_s: float = 120.0,
        identity: str | None = None,
    ) -> None:
        from openai import AsyncOpenAI

        self.model = model
        self.base_url = base_url
        self._identity = identity
        key = os.environ.get(api_key_env)
        if key is None and base_url is None:
            raise LLMError(
                f"no API key: set the environment variable {api_key_env} "
                "(or point --llm-base-url at a local server)"
            )
        # local servers accept any key; the SDK insists on a non-empty one
        self._client = AsyncOpenAI(
            api_key=key or "not-needed", base_url=base_url, timeout=timeout_s, max_retries=0
        )

    def identity(self) -> str:
        return self._identity or endpoint_identity(self.base_url, self.model)

    async def complete(self, request: LLMRequest) -> LLMResponse:
        import openai

        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [m.model_dump() for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        if request.stop:
            kwargs["stop"] = list(request.stop)
        if request.seed is not None:
            kwargs["seed"] = request.seed
        if request.top_logprobs:
            kwargs["logprobs"] = True
            kwargs["top_logprobs"] = request.top_logprobs
        try:
            completion = await self._client.chat.completions.create(**kwargs)
        except (openai.RateLimitError, openai.InternalServerError) as err:
            raise RetryableLLMError(_describe(err), _retry_after(err)) from None
        except (openai.APITimeoutError, openai.APIConnectionError) as err:
            raise RetryableLLMError(_describe(err)) from None
        except openai.APIStatusError as err:
            if err.status_code in (408, 409, 425, 429) or err.status_code >= 500:
                raise RetryableLLMError(_describe(err), _retry_after(err)) from None
            raise LLMError(_describe(err)) from None
        return _to_response(completion)


def endpoint_identity(base_url: str | None, model: str) -> str:
    return f"openai-compatible:{base_url or 'api.openai.com'}:{model}"


def _describe(err: Exception) -> str:
    status = getattr(err, "status_code", None)
    return f"{type(err).__name__}{f' ({status})' if status else ''}: {str(err)[:300]}"


def _retry_after(err: Exception) -> float | None:
    response = getattr(err, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    try:
        return float(header) if header is not None else None
    except ValueError:
        return None


def _to_response(completion: Any) -> LLMResponse:
    if not completion.choices:
        raise RetryableLLMError("endpoint returned no choices")
    choice = completion.choices[0]
    logprobs = None
    if choice.logprobs is not None and choice.logprobs.content is not None:
        logprobs = [
            TokenLogprob(
                token=item.token,
                logprob=item.logprob,
                top={alt.token: alt.logprob for alt in (item.top_logprobs or [])},
            )
            for item in choice.logprobs.content
        ]
    usage = completion.usage
    return LLMResponse(
        text=choice.message.content or "",
        logprobs=logprobs,
        usage=Usage(
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
        ),
        model=completion.model or "",
        finish_reason=choice.finish_reason,
    )
