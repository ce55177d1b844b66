"""Surprisal scoring: does the explanation make activating text more predictable to a base LM?

For each test window (activating and non-activating), the scoring LM gives the per-token loss
of the window's text after the few-shot prefix ending in the explanation, and after the same
prefix ending in a fixed control description. Example score = loss(control) − loss(explanation)
(mean over the window's tokens); the latent's score is the AUROC of that score separating
activating from non-activating windows. The *activating-tokens* variant scores an activating
window by its loss drop on the tokens where the latent fires only (negatives keep all tokens).
Losses under the control description do not depend on the explanation and are computed once
per window and reused (also by the shuffled-explanation control)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from sae_interp.activations.records import Window
from sae_interp.base import FrozenModel
from sae_interp.llm.types import LLMRequest
from sae_interp.scorers import metrics
from sae_interp.scorers import surprisal_prompts as prompts
from sae_interp.scorers.base import ScoreItem
from sae_interp.scoring_lm import ScoringLM, TokenLogprobs, char_spans, tokens_in_spans
from sae_interp.stats import pooled


class SurprisalSettings(FrozenModel):
    control_description: str = Field(
        default=prompts.CONTROL_DESCRIPTION,
        description="Description the explanation is compared to.",
    )


class SurprisalExample(BaseModel):
    seq: int
    start: int
    label: int
    quantile_bin: int | None = None
    n_tokens: int = Field(description="Scoring-LM tokens of the window.")
    loss_explanation: float
    loss_control: float
    loss_drop_active: float | None = Field(
        default=None, description="Loss drop over the tokens where the latent fires."
    )

    @property
    def loss_drop(self) -> float:
        return self.loss_control - self.loss_explanation


class SurprisalOutcome(BaseModel):
    latent: int
    explanation: str
    examples: list[SurprisalExample]


class SurprisalMetrics(BaseModel):
    auroc: float = pooled("Loss drop (mean over tokens), activating vs not.")
    auroc_activating_tokens: float = pooled(
        "Same, activating windows scored on their activating tokens only."
    )
    mean_loss_drop_activating: float = pooled("Mean loss drop on activating windows (nats).")
    mean_loss_drop_negatives: float = pooled("Mean loss drop on non-activating windows (nats).")
    n_examples: int


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def surprisal_metrics(outcome: SurprisalOutcome) -> SurprisalMetrics:
    examples = [e for e in outcome.examples if e.n_tokens > 0]
    labels = [e.label for e in examples]
    drops = [e.loss_drop for e in examples]
    active_drops = [
        e.loss_drop_active if e.label and e.loss_drop_active is not None else e.loss_drop
        for e in examples
    ]
    return SurprisalMetrics(
        auroc=metrics.auroc(labels, drops),
        auroc_activating_tokens=metrics.auroc(labels, active_drops),
        mean_loss_drop_activating=_mean([d for d, y in zip(drops, labels, strict=True) if y]),
        mean_loss_drop_negatives=_mean([d for d, y in zip(drops, labels, strict=True) if not y]),
        n_examples=len(examples),
    )


def window_text(window: Window, tokenizer: Any) -> tuple[str, list[tuple[int, int]]]:
    """The window's raw text and the character spans of the tokens where the latent fires."""
    pieces = window.str_tokens(tokenizer)
    active = [
        (lo + len(piece) - len(piece.lstrip()), hi)  # a token's leading space is not its content
        for piece, (lo, hi), a in zip(pieces, char_spans(pieces), window.activations, strict=True)
        if a > 0 and piece.strip()
    ]
    return "".join(pieces), active


class SurprisalScorer:
    """:class:`~sae_interp.scorers.base.LatentScorer` on a :class:`ScoringLM`."""

    def __init__(self, lm: ScoringLM | None, tokenizer: Any, settings: SurprisalSettings) -> None:
        self.lm, self.tokenizer, self.settings = lm, tokenizer, settings
        self._control: dict[str, TokenLogprobs] = {}  # window text -> logprobs (control prefix)

    def _control_logprobs(self, texts: Sequence[str]) -> list[TokenLogprobs]:
        assert self.lm is not None
        missing = sorted({t for t in texts if t not in self._control})
        if missing:
            prefix = prompts.prefix(self.settings.control_description)
            for text, lp in zip(
                missing, self.lm.continuation_logprobs(prefix, missing), strict=True
            ):
                self._control[text] = lp
        return [self._control[t] for t in texts]

    def score(self, items: Sequence[ScoreItem]) -> list[SurprisalOutcome]:
        if self.lm is None:
            raise RuntimeError("this scorer was built for planning only (no scoring LM)")
        outcomes = []
        for item in items:
            windows = item.record.test_with_negatives
            texts, spans = zip(*(window_text(w, self.tokenizer) for w in windows), strict=True)
            real = self.lm.continuation_logprobs(prompts.prefix(item.explanation), list(texts))
            control = self._control_logprobs(list(texts))
            examples = [
                _example(w, text, active, r, c)
                for w, text, active, r, c in zip(windows, texts, spans, real, control, strict=True)
            ]
            outcomes.append(
                SurprisalOutcome(
                    latent=item.record.latent, explanation=item.explanation, examples=examples
                )
            )
        return outcomes

    def metrics(self, outcome: SurprisalOutcome) -> SurprisalMetrics:
        return surprisal_metrics(outcome)

    def planned_requests(self, item: ScoreItem) -> list[LLMRequest]:
        return []


def _example(
    window: Window,
    text: str,
    active: list[tuple[int, int]],
    real: TokenLogprobs,
    control: TokenLogprobs,
) -> SurprisalExample:
    if real.offsets != control.offsets:
        raise ValueError("the scoring LM tokenised one window differently under two prefixes")
    n = len(real.logprobs)
    drop_active = None
    if window.is_activating and active:
        mask = tokens_in_spans(real.offsets, len(text), active)
        diffs = [r - c for r, c, m in zip(real.logprobs, control.logprobs, mask, strict=True) if m]
        drop_active = _mean(diffs) if diffs else None
    return SurprisalExample(
        seq=window.seq,
        start=window.start,
        label=int(window.is_activating),
        quantile_bin=window.quantile_bin,
        n_tokens=n,
        loss_explanation=-_mean(real.logprobs) if n else math.nan,
        loss_control=-_mean(control.logprobs) if n else math.nan,
        loss_drop_active=drop_active,
    )
