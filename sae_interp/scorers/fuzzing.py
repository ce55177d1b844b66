"""Fuzzing scoring: are the *highlighted tokens* the ones the explanation describes?

Activating test windows are shown with their true highlights (label 1). Wrongly highlighted
examples (label 0) are either

* ``default``: the non-activating windows, each with ``n`` random tokens highlighted, where
  ``n = ceil(mean number of highlighted tokens per activating test window)``; or
* ``active``: the activating test windows again, with as many highlights as they truly have
  placed on tokens that are not highlighted in truth (harder: the topic is right, the tokens
  are not). Windows whose every token is highlighted cannot be mis-marked and are left out.

Judging, parsing and metrics are the shared 0/1 judge's (:mod:`sae_interp.scorers.judge`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field

from sae_interp.activations.records import LatentRecord, Window
from sae_interp.base.registry import Registry
from sae_interp.llm.service import LLMService
from sae_interp.scorers import fuzzing_prompts as prompts
from sae_interp.scorers import judge, per_example_prompts
from sae_interp.scorers.base import JudgeScorer, LatentScorer, ScoreItem
from sae_interp.scorers.judge import JudgePlan, JudgeSettings, Shown
from sae_interp.scorers.per_example import PerExampleScorer
from sae_interp.text.formatting import highlight_mask, marked_text


class FuzzingSettings(JudgeSettings):
    fuzz_type: Literal["default", "active"] = Field(
        default="default",
        description="'default': random highlights on non-activating windows; 'active': "
        "misplaced highlights on activating windows (harder).",
    )
    mode: str = Field(
        default="auto",
        description="'batched': 0/1 per window in small batches; 'per_example': one window per "
        "request, the marked words listed, answered Yes/No, AUROC from P(Yes); 'auto': "
        "per_example with the offline LLM (it recovers the planted suite's known answers "
        "there), batched with any endpoint.",
    )


def true_highlights(window: Window) -> list[int]:
    return [i for i, marked in enumerate(highlight_mask(window.activations)) if marked]


def n_random_highlights(test: Sequence[Window]) -> int:
    """ceil(mean number of highlighted tokens per activating window), at least 1."""
    counts = [len(true_highlights(w)) for w in test]
    return max(1, math.ceil(sum(counts) / len(counts))) if counts else 1


def _shown(window: Window, label: int, positions: Sequence[int], tokenizer: Any) -> Shown:
    chosen = set(positions)
    mask = [i in chosen for i in range(len(window.tokens))]
    return Shown(
        window, label, marked_text(window.str_tokens(tokenizer), mask), tuple(sorted(chosen))
    )


def _misplaced(window: Window, n: int, rng: np.random.Generator) -> list[int] | None:
    """``n`` positions outside the true highlights (fewer if there are fewer); None if none."""
    truth = set(true_highlights(window))
    free = [i for i in range(len(window.tokens)) if i not in truth]
    if not free:
        return None
    picked = rng.choice(len(free), size=min(n, len(free)), replace=False)
    return sorted(free[int(i)] for i in picked)


def shown_examples(record: LatentRecord, tokenizer: Any, fuzz_type: str, seed: int) -> list[Shown]:
    rng = np.random.default_rng([seed, record.latent, 17])
    positives = [_shown(w, 1, true_highlights(w), tokenizer) for w in record.test]
    negatives: list[Shown] = []
    if fuzz_type == "default":
        n = n_random_highlights(record.test)
        for w in record.negatives:
            positions = _misplaced(w, n, rng)
            if positions is not None:
                negatives.append(_shown(w, 0, positions, tokenizer))
    elif fuzz_type == "active":
        for w in record.test:
            positions = _misplaced(w, len(true_highlights(w)), rng)
            if positions is not None:
                negatives.append(_shown(w, 0, positions, tokenizer))
    else:
        raise ValueError(f"unknown fuzz_type {fuzz_type!r}; use 'default' or 'active'")
    return positives + negatives


class FuzzingScorer(JudgeScorer):
    def __init__(
        self, tokenizer: Any, service: LLMService | None, settings: FuzzingSettings, seed: int
    ) -> None:
        super().__init__(tokenizer, service, seed)
        self.settings = settings

    def plan(self, item: ScoreItem) -> JudgePlan:
        shown = shown_examples(item.record, self.tokenizer, self.settings.fuzz_type, self.seed)
        return judge.plan_judgements(
            item.record.latent, item.explanation, shown, prompts, self.settings, self.seed
        )


# mode -> the scorer of that mode, from (tokenizer, LLM service or None when planning,
# fuzzing settings, seed)
FuzzingFactory = Callable[[Any, LLMService | None, FuzzingSettings, int], LatentScorer]
FUZZING_MODES: Registry[FuzzingFactory] = Registry("fuzzing mode")
FUZZING_MODES.register("batched", FuzzingScorer)
FUZZING_MODES.register(
    "per_example",
    lambda tokenizer, service, settings, seed: PerExampleScorer(
        tokenizer,
        service,
        settings,
        seed,
        lambda record: shown_examples(record, tokenizer, settings.fuzz_type, seed),
        per_example_prompts.FUZZING,
    ),
)
FuzzingSettings.MODES = FUZZING_MODES
