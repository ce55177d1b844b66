"""Generation evaluation: can an LLM write texts that activate the latent from its
explanation alone? Success = a text's max activation reaches half the mean max activation of
the latent's top exemplars."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from pydantic import BaseModel, Field

from sae_interp.base import FrozenModel
from sae_interp.llm.errors import LLMError
from sae_interp.llm.types import ChatMessage, LLMRequest, LLMResponse
from sae_interp.scorers import generation_prompts as prompts

SUCCESS_FRACTION = 0.5


class GenerationSettings(FrozenModel):
    n_texts: int = Field(default=10, gt=0, description="Texts the LLM writes per explanation.")
    max_tokens: int = Field(default=600, gt=0)
    temperature: float = Field(default=0.7, ge=0)


class GenerationResult(BaseModel):
    texts: list[str] = Field(default_factory=list)
    max_activations: list[float] = Field(default_factory=list)
    threshold: float = 0.0
    success_rate: float | None = None
    mean_activation: float | None = None
    raw: str | None = None
    error: str | None = None


def build_request(
    explanation: str, settings: GenerationSettings, seed: int | None = None
) -> LLMRequest:
    """The request for texts meant to activate the latent; ``seed`` (sampled at
    ``settings.temperature``) makes another seed draw other texts, not the cached ones."""
    return LLMRequest(
        messages=(
            ChatMessage(role="system", content=prompts.SYSTEM),
            ChatMessage(role="user", content=prompts.user_message(explanation, settings.n_texts)),
        ),
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        seed=seed,
    )


def parse_texts(text: str, n: int) -> list[str] | None:
    """The texts of a ``{"texts": [...]}`` reply (or, failing that, numbered lines); at most
    ``n``; None when nothing usable is found."""
    for match in reversed(list(re.finditer(r"\{.*\}", text, re.DOTALL))):
        try:
            data = json.loads(match.group(0))
        except json.JSONDecodeError:
            continue
        items = data.get("texts") if isinstance(data, dict) else None
        if isinstance(items, list):
            texts = [str(t).strip() for t in items if str(t).strip()]
            return texts[:n] or None
    numbered = [m.group(1).strip() for m in re.finditer(r"^\s*\d+[.)]\s+(.+)$", text, re.M)]
    return numbered[:n] or None


def generation_metrics(
    max_activations: Sequence[float], reference: float
) -> tuple[float, float, float]:
    """(success rate, mean max activation, threshold) with threshold = half of ``reference``
    (the mean max activation of the top exemplars)."""
    threshold = SUCCESS_FRACTION * reference
    if not max_activations:
        return float("nan"), float("nan"), threshold
    success = sum(a >= threshold and a > 0 for a in max_activations) / len(max_activations)
    return success, sum(max_activations) / len(max_activations), threshold


def read_texts(answer: LLMResponse | LLMError, n: int) -> GenerationResult:
    if isinstance(answer, LLMError):
        return GenerationResult(error=str(answer))
    texts = parse_texts(answer.text, n)
    if texts is None:
        return GenerationResult(raw=answer.text, error="no texts found in the answer")
    return GenerationResult(texts=texts, raw=answer.text)
