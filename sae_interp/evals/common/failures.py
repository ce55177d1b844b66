"""Which latents' scoring failed in a group, so that they are counted in the output and left
unfinished (a rerun retries exactly them) instead of stored as results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sae_interp.framework.failures import FAILED_STATUSES, error_kind
from sae_interp.llm.errors import LLMError
from sae_interp.llm.types import LLMRequest
from sae_interp.scorers.base import LatentScorer, ScoreItem


def mark_scoring_failures(
    scorer: LatentScorer,
    shells: Sequence[tuple[Any, list[tuple[ScoreItem, bool]]]],
    failed: dict[LLMRequest, LLMError],
) -> None:
    """Mark the latents whose scoring requests failed (after the LLM layer's retries) as
    ``scoring_failed``: their partial scores are kept for audit but not pooled, and they are
    not stored. A failure no latent's planned requests explain fails the whole group (its
    successful answers are cached, so the rerun costs only the failed calls)."""
    explained: set[LLMRequest] = set()
    for result, items in shells:
        planned = [q for item, _ in items for q in scorer.planned_requests(item)]
        error = next((failed[q] for q in planned if q in failed), None)
        explained.update(q for q in planned if q in failed)
        if error is not None:
            _fail_scoring(result, error)
    rest = [error for request, error in failed.items() if request not in explained]
    if rest:
        for result, items in shells:
            if items and result.status not in FAILED_STATUSES:
                _fail_scoring(result, rest[0])


def _fail_scoring(result: Any, error: LLMError) -> None:
    result.status, result.scoring_error = "scoring_failed", str(error)
    result.error_kind = error_kind(error)
    result.metrics = result.control_metrics = None
