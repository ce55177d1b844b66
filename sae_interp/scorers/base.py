"""What every explanation scorer provides, so one loop (``evals.common``) drives them all.

A scorer takes (latent record, explanation) pairs and returns one auditable outcome per pair;
``metrics`` turns an outcome into the latent's numbers. Pairs of several latents (and their
shuffled-explanation controls) are scored in one call, so LLM scorers can send all their
requests concurrently and local scorers can batch their forward passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from pydantic import BaseModel

from sae_interp.activations.records import LatentRecord
from sae_interp.llm.service import LLMService
from sae_interp.llm.types import LLMRequest
from sae_interp.scorers.judge import JudgePlan, judge_metrics, run_plans


class ScoreItem(NamedTuple):
    record: LatentRecord
    explanation: str
    rules: tuple[Any, ...] = ()  # structured explanations: the rules (``explanation`` renders them)


class LatentScorer(Protocol):
    def score(self, items: Sequence[ScoreItem]) -> list[Any]:
        """One outcome (a pydantic model) per item, in order."""
        ...

    def metrics(self, outcome: Any) -> BaseModel:
        """The latent's metrics from its outcome (pure)."""
        ...

    def planned_requests(self, item: ScoreItem) -> list[LLMRequest]:
        """The LLM requests ``score`` would send for ``item`` (empty for local scorers)."""
        ...


class JudgeScorer:
    """Base of the LLM-judge scorers: subclasses say what is shown (``plan``)."""

    def __init__(self, tokenizer: Any, service: LLMService | None, seed: int) -> None:
        self.tokenizer = tokenizer
        self.service = service
        self.seed = seed

    def plan(self, item: ScoreItem) -> JudgePlan:
        raise NotImplementedError

    def score(self, items: Sequence[ScoreItem]) -> list[Any]:
        if self.service is None:
            raise RuntimeError("this scorer was built for planning only (no LLM service)")
        return run_plans([self.plan(item) for item in items], self.service)

    def metrics(self, outcome: Any) -> BaseModel:
        return judge_metrics(outcome)

    def planned_requests(self, item: ScoreItem) -> list[LLMRequest]:
        return self.plan(item).requests
