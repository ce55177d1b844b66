"""Prompt log-probabilities, for the simulator's all-at-once mode: for every token of a
prompt, the most likely alternatives at that position, so that a whole window's predicted
activations are read from one forward pass.

From an OpenAI-compatible *completions* endpoint (llama.cpp server, vLLM) the prompt is sent
with ``echo`` and ``logprobs=k`` and ``max_tokens=1``, through the eval's
:class:`~sae_interp.llm.service.LLMService`: the same concurrency limit, retries, failure
kinds, response cache and usage report as every chat call. A call that still fails is
returned in its slot and recorded as failed, so its latent is not stored as finished."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel, Field

from sae_interp.llm.errors import FailureKind, LLMError
from sae_interp.llm.service import LLMService
from sae_interp.llm.types import LLMRequest, LLMResponse

NO_ALTERNATIVES = "the server returned no prompt log-probs with alternatives (echo + logprobs)"


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


def echo_request(prompt: str, top: int) -> LLMRequest:
    """The completions request that returns ``prompt``'s log-probs with ``top`` alternatives
    per position (what a run sends, and what its dry run counts)."""
    return LLMRequest(
        messages=(),
        prompt=prompt,
        max_tokens=1,
        temperature=0.0,
        top_logprobs=min(top, 20),
        echo_logprobs=True,
    )


def _has_alternatives(answer: LLMResponse) -> str | None:
    tokens = answer.prompt_logprobs or []
    return None if any(t.top for t in tokens) else NO_ALTERNATIVES


def _read(answer: LLMResponse) -> PromptLogprobs:
    tokens = answer.prompt_logprobs or []
    return PromptLogprobs(
        tokens=[t.token or "" for t in tokens],
        offsets=[t.offset for t in tokens],
        top=[t.top for t in tokens],
        prompt_tokens=answer.usage.prompt_tokens,
    )


class CompletionsPromptLogprobs:
    """Prompt log-probs from the completions endpoint behind ``service``."""

    def __init__(self, service: LLMService) -> None:
        self.service = service

    def identity(self) -> str:
        return self.service.backend.identity()

    def prompt_logprobs(self, prompts: Sequence[str], top: int) -> list[PromptLogprobs | LLMError]:
        requests = [echo_request(prompt, top) for prompt in prompts]
        answers = self.service.complete_all(requests, validate=_has_alternatives)
        out: list[PromptLogprobs | LLMError] = []
        for answer in answers:
            if isinstance(answer, LLMError):
                out.append(answer)
            elif _has_alternatives(answer) is not None:  # still none after the re-asks
                out.append(LLMError(NO_ALTERNATIVES, FailureKind.invalid_answer))
            else:
                out.append(_read(answer))
        return out
