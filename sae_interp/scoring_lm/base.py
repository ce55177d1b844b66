"""A scoring LM returns the log-probability of every token of given texts after a shared
prefix. Surprisal and the intervention scorer use it; any base (not chat) causal LM works."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol

from pydantic import Field, field_validator

from sae_interp.base import FrozenModel
from sae_interp.base.registry import Registry


class TokenLogprobs(NamedTuple):
    """Per scoring-LM token of one continuation: its log-probability and where it starts
    (character offset into the continuation)."""

    logprobs: list[float]
    offsets: list[int]


class ScoringLM(Protocol):
    def identity(self) -> str: ...

    def continuation_logprobs(
        self, prefix: str, continuations: Sequence[str]
    ) -> list[TokenLogprobs]:
        """Log-probs of each continuation's tokens given ``prefix`` (prefix computed once)."""
        ...


class ScoringLMSettings(FrozenModel):
    backend: str = Field(
        default="model",
        description="'model': a TransformerLens model in-process; 'openai': a completions "
        "server that returns prompt log-probs (e.g. vLLM).",
    )
    model: str = Field(
        default="embedded",
        description="Model spec (in-process; the eval's own model is reused when it is the "
        "same spec) or the served model name.",
    )
    base_url: str | None = Field(default=None, description="Server URL for 'openai'.")
    api_key_env: str = Field(default="OPENAI_API_KEY", description="Env var with the key.")
    batch_size: int = Field(default=8, gt=0, description="Texts per forward pass / in flight.")
    timeout_s: float = Field(default=120.0, gt=0)

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        return SCORING_LMS.validate(value)


# (settings, the eval's model and its spec) -> scoring LM; filled in sae_interp.scoring_lm
ScoringLMFactory = Callable[[ScoringLMSettings, Any, str], ScoringLM]
SCORING_LMS: Registry[ScoringLMFactory] = Registry("scoring LM backend")


def char_spans(pieces: Sequence[str]) -> list[tuple[int, int]]:
    """[start, end) character span of each piece in ``"".join(pieces)``."""
    spans, at = [], 0
    for piece in pieces:
        spans.append((at, at + len(piece)))
        at += len(piece)
    return spans


def tokens_in_spans(
    offsets: Sequence[int], text_len: int, spans: Sequence[tuple[int, int]]
) -> list[bool]:
    """For each scoring token (given by its start offset), whether it overlaps any span."""
    ends = [*offsets[1:], text_len]
    return [
        any(start < hi and lo < end for lo, hi in spans)
        for start, end in zip(offsets, ends, strict=True)
    ]
