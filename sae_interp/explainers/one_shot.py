"""The one-shot explainer: highlighted train windows (optionally with normalised
activations) after few-shot demos; the answer's marked final line is the explanation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import Field

from sae_interp.activations.records import LatentRecord
from sae_interp.base import FrozenModel
from sae_interp.explainers import token_first_prompts
from sae_interp.explainers.cost import ExplanationCost
from sae_interp.explainers.explanations import Explanation
from sae_interp.explainers.one_shot_prompts import (
    DEMOS,
    SYSTEM,
    PromptExample,
    parse_explanation,
    user_message,
)
from sae_interp.llm.errors import LLMError
from sae_interp.llm.service import LLMService
from sae_interp.llm.types import ChatMessage, LLMRequest
from sae_interp.text.formatting import (
    HIGHLIGHT_FRACTION,
    display_token,
    highlight_mask,
    highlighted_text,
    marked_text,
    normalised_activations,
    top_firing_tokens,
)

NO_LINE = "no '[EXPLANATION]:' line in the answer"
UNPARSEABLE = "unparseable_answer"  # failure kind of an answer that holds no explanation


class OneShotSettings(FrozenModel):
    max_examples: int = Field(default=40, gt=0, description="Train windows shown per latent.")
    show_activations: bool = Field(
        default=False, description="Also list each example's active tokens with 0-10 values."
    )
    n_top_tokens: int = Field(default=10, ge=0, description="Peak tokens listed with counts.")
    highlight_fraction: float = Field(default=HIGHLIGHT_FRACTION, gt=0, le=1)
    max_tokens: int = Field(default=200, gt=0, description="Answer length limit.")
    peak_context: int = Field(
        default=0,
        ge=0,
        description="If > 0: the token-first prompt (every firing token with its count, then "
        "this many tokens either side of each window's peak) instead of whole windows.",
    )
    temperature: float = Field(default=0.0, ge=0)


def build_request(record: LatentRecord, tokenizer: Any, settings: OneShotSettings) -> LLMRequest:
    if settings.peak_context:
        return build_token_first_request(record, tokenizer, settings)
    top, examples = shown_examples(record, tokenizer, settings)
    return with_demos(SYSTEM, DEMOS, user_message(top, examples), settings)


def shown_examples(
    record: LatentRecord, tokenizer: Any, settings: OneShotSettings
) -> tuple[list[tuple[str, int]], list[PromptExample]]:
    """The peak tokens with their counts and the highlighted train windows a prompt shows."""
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
            PromptExample(highlighted_text(str_tokens, acts, settings.highlight_fraction), shown)
        )
    top = top_firing_tokens(decoded, settings.n_top_tokens) if settings.n_top_tokens else []
    return top, examples


def with_demos(
    system: str, demos: Sequence[tuple[str, str]], user: str, settings: OneShotSettings
) -> LLMRequest:
    """The system prompt, the demos as user/assistant turns, then ``user``."""
    messages = [ChatMessage(role="system", content=system)]
    for demo_user, demo_answer in demos:
        messages.append(ChatMessage(role="user", content=demo_user))
        messages.append(ChatMessage(role="assistant", content=demo_answer))
    messages.append(ChatMessage(role="user", content=user))
    return LLMRequest(
        messages=tuple(messages), max_tokens=settings.max_tokens, temperature=settings.temperature
    )


def firing_token_counts(
    windows: Sequence[tuple[Sequence[str], Sequence[float]]], fraction: float, k: int
) -> list[tuple[str, int]]:
    """Every highlighted token (activation >= ``fraction`` of its window's max), counted
    over the windows, most frequent first (ties: first seen)."""
    counts: Counter[str] = Counter()
    for str_tokens, acts in windows:
        for token, marked in zip(str_tokens, highlight_mask(acts, fraction), strict=True):
            if marked:
                counts[display_token(token).strip() or token] += 1
    return counts.most_common(k)


def peak_context(str_tokens: Sequence[str], acts: Sequence[float], width: int) -> str:
    """``width`` tokens either side of the window's peak, the peak token marked."""
    peak = max(range(len(acts)), key=lambda i: acts[i])
    lo, hi = max(0, peak - width), min(len(acts), peak + width + 1)
    marked = [i == peak for i in range(lo, hi)]
    return marked_text(str_tokens[lo:hi], marked).strip()


def build_token_first_request(
    record: LatentRecord, tokenizer: Any, settings: OneShotSettings
) -> LLMRequest:
    windows = record.train[: settings.max_examples]
    decoded = [(w.str_tokens(tokenizer), w.activations) for w in windows]
    counts = firing_token_counts(
        decoded, settings.highlight_fraction, max(1, settings.n_top_tokens)
    )
    contexts = [peak_context(t, a, settings.peak_context) for t, a in decoded if max(a) > 0]
    user = token_first_prompts.user_message(counts, contexts)
    return with_demos(token_first_prompts.SYSTEM, token_first_prompts.DEMOS, user, settings)


def explain(
    records: Sequence[LatentRecord],
    tokenizer: Any,
    service: LLMService,
    settings: OneShotSettings,
    progress: bool = True,
    build: Callable[[LatentRecord, Any, OneShotSettings], LLMRequest] | None = None,
) -> list[Explanation]:
    """One explanation per record (records without train windows get a recorded failure).
    ``build``: the request of one record (default: the one-shot prompt's)."""
    build = build or build_request
    usable = [r for r in records if r.train]
    responses = service.complete_all(
        [build(r, tokenizer, settings) for r in usable],
        progress=progress,
        desc="explaining",
        validate=lambda answer: None if parse_explanation(answer.text) is not None else NO_LINE,
    )
    by_latent: dict[int, Explanation] = {}
    for record, response in zip(usable, responses, strict=True):
        if isinstance(response, LLMError):
            by_latent[record.latent] = Explanation(
                latent=record.latent,
                text=None,
                error=str(response),
                error_kind=response.kind.value,
            )
            continue
        text = parse_explanation(response.text)
        by_latent[record.latent] = Explanation(
            latent=record.latent,
            text=text,
            raw=response.text,
            error=None if text is not None else NO_LINE,
            error_kind=None if text is not None else UNPARSEABLE,
            cost=ExplanationCost.of(response),
        )
    return [
        by_latent.get(r.latent)
        or Explanation(
            latent=r.latent,
            text=None,
            error=f"no train windows ({r.status.value})",
            error_kind="no_train_windows",
        )
        for r in records
    ]
