"""Typed requests and responses shared by every LLM backend, and the protocol every backend
implements: one async call, typed in and out. Backends translate their own failures into
:class:`~sae_interp.llm.errors.RetryableLLMError` (worth retrying) or
:class:`~sae_interp.llm.errors.LLMError` (not). Retries, concurrency, timeouts, caching and
accounting are not the backend's job: :class:`~sae_interp.llm.service.LLMService` does them
for every backend."""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field


class ChatMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str


class LLMRequest(BaseModel):
    """One chat completion. Everything that changes the answer is a field, so the request
    itself is the response-cache key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    messages: tuple[ChatMessage, ...]
    max_tokens: int = Field(default=256, gt=0)
    temperature: float = Field(default=0.0, ge=0)
    top_logprobs: int = Field(
        default=0, ge=0, le=20, description="Alternatives per generated token (0 = no log-probs)."
    )
    stop: tuple[str, ...] = ()
    seed: int | None = None
    prompt: str | None = Field(
        default=None,
        description="A plain completions prompt (no chat template); messages are then empty.",
    )
    echo_logprobs: bool = Field(
        default=False, description="Completions only: return the prompt's own token log-probs."
    )

    @classmethod
    def chat(cls, system: str | None, user: str, **kwargs: object) -> LLMRequest:
        messages = [ChatMessage(role="system", content=system)] if system else []
        messages.append(ChatMessage(role="user", content=user))
        return cls(messages=tuple(messages), **kwargs)  # type: ignore[arg-type]


class TokenLogprob(BaseModel):
    token: str
    logprob: float
    top: dict[str, float] = Field(default_factory=dict, description="Alternatives -> log-prob.")


class PromptToken(BaseModel):
    """One token of an echoed completions prompt."""

    offset: int = Field(description="Character offset of the token in the prompt.")
    logprob: float | None = Field(description="None for the prompt's first token.")
    token: str | None = Field(default=None, description="The token's text, when returned.")
    top: dict[str, float] | None = Field(
        default=None,
        description="The most likely tokens at this position -> log-prob, when the request "
        "asked for alternatives (None where the server gives none, e.g. the first).",
    )


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = Field(
        default=0, description="Prompt tokens the backend served from its prefix cache."
    )

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
        )


class LLMResponse(BaseModel):
    text: str
    logprobs: list[TokenLogprob] | None = None
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    finish_reason: str | None = None
    cached: bool = False
    prompt_logprobs: list[PromptToken] | None = Field(
        default=None, description="Echoed prompt tokens (completions with echo_logprobs)."
    )


@runtime_checkable
class LLMBackend(Protocol):
    model: str

    async def complete(self, request: LLMRequest) -> LLMResponse: ...

    def identity(self) -> str:
        """What distinguishes this backend's answers (model and endpoint); part of the
        cache key. Never includes credentials."""
        ...
