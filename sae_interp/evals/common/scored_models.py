"""What an explanation-based eval is and what its loop produces: :class:`ScoredEval` (its
scorer and summary), the per-latent result every such eval writes, the :class:`ScoredRun`
its summary pools, and the counts every such eval reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from sae_interp.activations.records import RecordStatus
from sae_interp.evals.common.config import ExplainedEvalConfig
from sae_interp.evals.common.latent_loop import RECORD_STATUS_COUNTS, status_counts
from sae_interp.evals.common.resources import EvalResources
from sae_interp.explainers.cost import ExplanationCost, MeanExplanationCost
from sae_interp.framework.failures import failure_counts, merge_counts
from sae_interp.framework.runner import EvalContext
from sae_interp.scorers.base import LatentScorer

# the names of the arms a run may have besides one per extra seed (``seed_<s>``)
REAL = "real"
RANDOM_SAE = "random_sae"
RANDOM_MODEL = "random_model"

OutcomeT = TypeVar("OutcomeT")
MetricsT = TypeVar("MetricsT")


class LatentScore(BaseModel, Generic[OutcomeT, MetricsT]):
    """One latent's result in any explanation-based eval (auditable: the outcome keeps what
    was shown and answered)."""

    latent: int
    status: str = Field(
        description="ok | too_rare | dead | out_of_range | explanation_failed | "
        "scoring_failed (the last two are not stored as finished: a rerun retries them)"
    )
    explanation: str | None = None
    explanation_source: str | None = Field(
        default=None, description="'explainer', or FORMAT:FILE:LINE of a given explanation."
    )
    explanation_error: str | None = None
    explanation_cost: ExplanationCost | None = Field(
        default=None, description="What making the explanation took (when it was made)."
    )
    scoring_error: str | None = Field(
        default=None, description="The LLM error that left the latent unscored, if any."
    )
    error_kind: str | None = Field(
        default=None, description="Kind of the failure (explanation or scoring), if any."
    )
    metrics: MetricsT | None = None
    outcome: OutcomeT | None = None
    control_explanation_of: int | None = Field(
        default=None, description="Latent whose explanation was used as the control."
    )
    control_note: str | None = Field(
        default=None,
        description="Why the latent has no control score (e.g. no other latent's "
        "explanation differs from its own).",
    )
    control_metrics: MetricsT | None = None
    control_outcome: OutcomeT | None = None


class ExplainedCounts(BaseModel):
    """Counts every explanation-based eval reports next to its pooled scores."""

    n_requested: int
    n_scored: int
    n_too_rare: int
    n_dead: int
    n_failed_explanations: int
    n_failed_scoring: int = Field(
        default=0, description="Latents whose scoring LLM calls failed (retried on rerun)."
    )
    failures: dict[str, int] = Field(
        default_factory=dict,
        description="Latents left unfinished by failures, by kind (retried on rerun).",
    )
    n_out_of_range: int = Field(default=0, description="Requested latent ids the SAE lacks.")
    llm_usage: dict[str, float | int | bool] = Field(default_factory=dict)
    mean_explanation_cost: MeanExplanationCost | None = Field(
        default=None,
        description="LLM calls, tokens and simulated windows per explained latent of the "
        "explanations scored (stored ones included: the cost is kept with each).",
    )


@dataclass(frozen=True)
class ScoredEval:
    """The explain-and-score part of an explanation-based eval (the ``scored`` field of its
    :class:`~sae_interp.framework.runner.EvalDefinition`). ``make_scorer`` builds its scorer
    for a context (``resources`` None when only planning); ``summarise`` pools a
    :class:`ScoredRun` into the eval's metrics; ``result_cls`` is its per-latent result;
    ``needs_explanation`` False: a scorer that reads no explanation (no explainer, no
    shuffled-explanation control); ``scores_with_model``: whether its scorer computes with
    a model in this process under a config (surprisal's in-process scoring LM), so that a
    latent shard's score stage needs model hardware."""

    eval_type_id: str
    config_cls: type[ExplainedEvalConfig]
    output_cls: type[Any]
    result_cls: type[LatentScore[Any, Any]]
    make_scorer: Callable[[EvalContext[Any], EvalResources | None], LatentScorer]
    summarise: Callable[[ScoredRun], BaseModel]
    table_columns: tuple[str, ...] = ()
    needs_explanation: bool = True
    scores_with_model: Callable[[Any], bool] = lambda config: False


@dataclass
class ArmResults:
    """One scored arm (see :mod:`sae_interp.evals.common.arms`): its name, the context it ran
    in, its seed and its per-latent results."""

    name: str
    ctx: EvalContext[Any]
    seed: int
    results: list[LatentScore[Any, Any]]


@dataclass
class ScoredRun:
    """What the loop hands to an eval's summary: every arm's per-latent results, the first
    being the SAE's own (``real``)."""

    config: Any
    arms: list[ArmResults]
    llm_usage: dict[str, Any] = field(default_factory=dict)

    @property
    def results(self) -> list[LatentScore[Any, Any]]:
        """The SAE's own latents (the ``real`` arm)."""
        return self.arms[0].results

    def arm(self, name: str) -> ArmResults | None:
        return next((a for a in self.arms if a.name == name), None)

    def arm_results(self, name: str) -> list[LatentScore[Any, Any]]:
        """The results of the arm ``name`` (empty when the run has no such arm)."""
        arm = self.arm(name)
        return arm.results if arm is not None else []

    @property
    def reseed_results(self) -> dict[int, list[LatentScore[Any, Any]]]:
        """Per extra seed, the reseeded arm's results."""
        named = (REAL, RANDOM_SAE, RANDOM_MODEL)
        return {a.seed: a.results for a in self.arms if a.name not in named}

    @property
    def metrics(self) -> list[Any]:
        return [r.metrics for r in self.results if r.metrics is not None]

    @property
    def control_metrics(self) -> list[Any]:
        return [r.control_metrics for r in self.results if r.control_metrics is not None]

    def counts(self) -> dict[str, Any]:
        return status_counts(
            self.results,
            **RECORD_STATUS_COUNTS,
            n_failed_explanations="explanation_failed",
            n_failed_scoring="scoring_failed",
            n_out_of_range=RecordStatus.out_of_range.value,
        ) | {
            "n_scored": len(self.metrics),
            "failures": self.failures(),
            "llm_usage": self.llm_usage,
            "mean_explanation_cost": ExplanationCost.mean(
                [r.explanation_cost for r in self.results if r.explanation_cost is not None]
            ),
        }

    def failures(self) -> dict[str, int]:
        """Unfinished latents by failure kind, over every arm."""
        return merge_counts(failure_counts(arm.results) for arm in self.arms)
