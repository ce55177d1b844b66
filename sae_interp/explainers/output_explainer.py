"""The output-side explainer: from prompts and the tokens whose probability rose most when a
latent was amplified, an LLM writes k candidate explanations (sampled independently)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from sae_interp.base import FrozenModel
from sae_interp.explainers.explanations import Explanation
from sae_interp.explainers.one_shot import NO_LINE, UNPARSEABLE
from sae_interp.explainers.one_shot_prompts import parse_explanation
from sae_interp.explainers.output_prompts import DEMOS, SYSTEM, user_message
from sae_interp.llm.errors import LLMError
from sae_interp.llm.types import ChatMessage, LLMRequest, LLMResponse
from sae_interp.text.formatting import display_token


class OutputExplainerSettings(FrozenModel):
    n_explanations: int = Field(default=5, gt=0, description="k explanations sampled per latent.")
    n_top_tokens: int = Field(default=5, gt=0, description="Rising tokens shown per prompt.")
    temperature: float = Field(default=1.0, ge=0, description="Sampling temperature.")
    max_tokens: int = Field(default=150, gt=0)


def build_requests(
    examples: Sequence[tuple[str, Sequence[str]]], settings: OutputExplainerSettings, seed: int
) -> list[LLMRequest]:
    """``settings.n_explanations`` requests (same prompt, different sampling seeds)."""
    messages = [ChatMessage(role="system", content=SYSTEM)]
    for user, answer in DEMOS:
        messages += [
            ChatMessage(role="user", content=user),
            ChatMessage(role="assistant", content=answer),
        ]
    shown = [(display_token(text), [display_token(t) for t in toks]) for text, toks in examples]
    messages.append(ChatMessage(role="user", content=user_message(shown)))
    return [
        LLMRequest(
            messages=tuple(messages),
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            seed=seed + j,
        )
        for j in range(settings.n_explanations)
    ]


def explanations_from_answers(
    latent: int, answers: Sequence[LLMResponse | LLMError]
) -> list[Explanation]:
    out = []
    for answer in answers:
        if isinstance(answer, LLMError):
            out.append(
                Explanation(
                    latent=latent, text=None, error=str(answer), error_kind=answer.kind.value
                )
            )
            continue
        text = parse_explanation(answer.text)
        out.append(
            Explanation(
                latent=latent,
                text=text,
                raw=answer.text,
                error=None if text is not None else NO_LINE,
                error_kind=None if text is not None else UNPARSEABLE,
            )
        )
    return out
