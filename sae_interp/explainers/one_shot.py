"""The one-shot explainer: highlighted train windows (optionally with normalised
activations) after few-shot demos; the answer's marked final line is the explanation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from sae_interp.activations.records import LatentRecord
from sae_interp.core.config import FrozenModel
from sae_interp.explainers.base import Explanation
from sae_interp.explainers.formatting import (
    HIGHLIGHT_FRACTION,
    display_token,
    highlighted_text,
    normalised_activations,
    top_firing_tokens,
)
from sae_interp.explainers.one_shot_prompts import (
    DEMOS,
    SYSTEM,
    ShownExample,
    parse_explanation,
    user_message,
)
from sae_interp.llm.errors import LLMError
from sae_interp.llm.service import LLMService
from sae_interp.llm.types import ChatMessage, LLMRequest

NO_LINE = "no '[EXPLANATION]:' line in the answer"


class OneShotSettings(FrozenModel):
    max_examples: int = Field(default=40, gt=0, description="Train windows shown per latent.")
    show_activations: bool = Field(
        default=False, description="Also list each example's active tokens with 0-10 values."
    )
    n_top_tokens: int = Field(default=10, ge=0, description="Peak tokens listed with counts.")
    highlight_fraction: float = Field(default=HIGHLIGHT_FRACTION, gt=0, le=1)
    max_tokens: int = Field(default=200, gt=0, description="Answer length limit.")
    temperature: float = Field(default=0.0, ge=0)


def build_request(record: LatentRecord, tokenizer: Any, settings: OneShotSettings) -> LLMRequest:
    windows = record.train[: settings.max_examples]
    decoded = [(w.str_tokens(tokenizer), w.activations) for w in windows]
    latent_max = max((w.max_activation for w in windows), default=0.0)
    examples = []
    for str_tokens, acts in decoded:
        shown: tuple[tuple[str, int], ...] = ()
        if settings.show_activations:
            levels = normalised_activations(acts, latent_max)
            shown = tuple(
                (display_token(t), v) for t, v in zip(str_tokens, levels, strict=True) if v > 0
            )
        examples.append(
            ShownExample(highlighted_text(str_tokens, acts, settings.highlight_fraction), shown)
        )
    messages = [ChatMessage(role="system", content=SYSTEM)]
    for demo_user, demo_answer in DEMOS:
        messages.append(ChatMessage(role="user", content=demo_user))
        messages.append(ChatMessage(role="assistant", content=demo_answer))
    top = top_firing_tokens(decoded, settings.n_top_tokens) if settings.n_top_tokens else []
    messages.append(ChatMessage(role="user", content=user_message(top, examples)))
    return LLMRequest(
        messages=tuple(messages), max_tokens=settings.max_tokens, temperature=settings.temperature
    )


def explain(
    records: Sequence[LatentRecord],
    tokenizer: Any,
    service: LLMService,
    settings: OneShotSettings,
    progress: bool = True,
) -> list[Explanation]:
    """One explanation per record (records without train windows get a recorded failure)."""
    usable = [r for r in records if r.train]
    responses = service.complete_all(
        [build_request(r, tokenizer, settings) for r in usable],
        progress=progress,
        desc="explaining",
        validate=lambda answer: None if parse_explanation(answer.text) is not None else NO_LINE,
    )
    by_latent: dict[int, Explanation] = {}
    for record, response in zip(usable, responses, strict=True):
        if isinstance(response, LLMError):
            by_latent[record.latent] = Explanation(
                latent=record.latent, text=None, error=str(response)
            )
            continue
        text = parse_explanation(response.text)
        error = None if text is not None else NO_LINE
        by_latent[record.latent] = Explanation(
            latent=record.latent, text=text, raw=response.text, error=error
        )
    return [
        by_latent.get(r.latent)
        or Explanation(latent=r.latent, text=None, error=f"no train windows ({r.status.value})")
        for r in records
    ]
