"""Any OpenAI-compatible chat endpoint: OpenAI, vLLM, OpenRouter, Ollama, llama.cpp server.

The API key is read from an environment variable whose *name* is configured; the key itself
is never stored in a config, a result, a cache key or a log line.
"""

from __future__ import annotations

import os
from typing import Any

from sae_interp.base.logging import redact, register_secret_env
from sae_interp.llm.errors import (
    FailureKind,
    LLMError,
    RetryableLLMError,
    kind_of_status,
)
from sae_interp.llm.types import LLMRequest, LLMResponse, PromptToken, TokenLogprob, Usage


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
        register_secret_env(api_key_env)
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
        endpoint, body = request_body(self.model, request)
        return await self._call(body, chat=endpoint == CHAT_ENDPOINT)

    async def _call(self, kwargs: dict[str, Any], chat: bool) -> LLMResponse:
        import openai

        try:
            if chat:
                completion = await self._client.chat.completions.create(**kwargs)
                return _to_response(completion)
            completion = await self._client.completions.create(**kwargs)
            return _completion_to_response(completion)
        except openai.APITimeoutError as err:
            raise RetryableLLMError(_describe(err), kind=FailureKind.timeout) from None
        except openai.APIConnectionError as err:
            raise RetryableLLMError(_describe(err), kind=FailureKind.connection) from None
        except openai.APIStatusError as err:
            kind = kind_of_status(err.status_code)
            if kind.retryable:
                raise RetryableLLMError(_describe(err), _retry_after(err), kind) from None
            raise LLMError(_describe(err), kind) from None
        except LLMError:
            raise
        except (openai.APIResponseValidationError, ValueError, TypeError, AttributeError) as err:
            # a body that is not JSON (json.JSONDecodeError is a ValueError) or not a
            # completion: the server or a proxy answered garbage; worth asking again
            raise RetryableLLMError(
                f"malformed response body: {_describe(err)}", kind=FailureKind.malformed_response
            ) from None


CHAT_ENDPOINT = "/v1/chat/completions"
COMPLETIONS_ENDPOINT = "/v1/completions"


def request_body(model: str, request: LLMRequest) -> tuple[str, dict[str, Any]]:
    """The endpoint path and JSON body that ask ``model`` for ``request``: what the client
    sends, and what a batch request line carries."""
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
    }
    if request.stop:
        body["stop"] = list(request.stop)
    if request.seed is not None:
        body["seed"] = request.seed
    if request.prompt is not None:
        body["prompt"] = request.prompt
        if request.echo_logprobs:
            body["echo"] = True
            body["logprobs"] = max(request.top_logprobs, 0)
        return COMPLETIONS_ENDPOINT, body
    body["messages"] = [m.model_dump() for m in request.messages]
    if request.top_logprobs:
        body["logprobs"] = True
        body["top_logprobs"] = request.top_logprobs
    return CHAT_ENDPOINT, body


def response_from_body(endpoint: str, body: dict[str, Any]) -> LLMResponse:
    """An answer read from the JSON body an endpoint returned (a batch output line's)."""
    from openai.types import Completion
    from openai.types.chat import ChatCompletion

    try:
        if endpoint == CHAT_ENDPOINT:
            return _to_response(ChatCompletion.model_validate(body))
        return _completion_to_response(Completion.model_validate(body))
    except ValueError as err:  # pydantic's ValidationError is a ValueError
        raise LLMError(
            f"malformed response body: {_describe(err)}", kind=FailureKind.malformed_response
        ) from None


def endpoint_identity(base_url: str | None, model: str) -> str:
    return f"openai-compatible:{base_url or 'api.openai.com'}:{model}"


def _describe(err: Exception) -> str:
    status = getattr(err, "status_code", None)
    text = redact(str(err))[:300]  # redact first: a cut key would no longer be recognised
    return f"{type(err).__name__}{f' ({status})' if status else ''}: {text}"


def _retry_after(err: Exception) -> float | None:
    response = getattr(err, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    try:
        return float(header) if header is not None else None
    except ValueError:
        return None


def _usage(usage: Any) -> Usage:
    details = getattr(usage, "prompt_tokens_details", None)
    return Usage(
        prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
        cached_tokens=getattr(details, "cached_tokens", 0) or 0,
    )


def _completion_to_response(completion: Any) -> LLMResponse:
    if isinstance(completion, str) or not getattr(completion, "choices", None):
        raise RetryableLLMError("endpoint returned no choices", kind=FailureKind.malformed_response)
    choice = completion.choices[0]
    prompt = None
    lp = choice.logprobs
    if lp is not None and lp.text_offset is not None and lp.token_logprobs is not None:
        n = len(lp.text_offset)
        tokens = list(lp.tokens or [None] * n)
        tops = list(lp.top_logprobs or [None] * n)
        prompt = [
            PromptToken(
                offset=int(offset),
                logprob=None if value is None else float(value),
                token=token,
                top={str(k): float(v) for k, v in top.items()} if top else None,
            )
            for offset, value, token, top in zip(
                lp.text_offset, lp.token_logprobs, tokens, tops, strict=False
            )
        ]
    return LLMResponse(
        text=choice.text or "",
        usage=_usage(completion.usage),
        model=completion.model or "",
        finish_reason=choice.finish_reason,
        prompt_logprobs=prompt,
    )


def _to_response(completion: Any) -> LLMResponse:
    if isinstance(completion, str) or not getattr(completion, "choices", None):
        raise RetryableLLMError("endpoint returned no choices", kind=FailureKind.malformed_response)
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
        usage=_usage(usage),
        model=completion.model or "",
        finish_reason=choice.finish_reason,
    )
