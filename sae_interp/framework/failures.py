"""Failures are counted, not stored: the short name of what went wrong with a piece of work,
and the check that turns a run with nothing done into a clear error."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any

from sae_interp.base.errors import AllLLMWorkFailedError

logger = logging.getLogger(__name__)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

FAILED_STATUSES = ("explanation_failed", "scoring_failed")


def error_kind(error: BaseException) -> str:
    """The error's own ``kind`` when it has one (the LLM layer's classification), else its
    class name in snake case."""
    kind = getattr(error, "kind", None)
    if isinstance(kind, Enum):
        return str(kind.value)
    if isinstance(kind, str) and kind:
        return kind
    return _CAMEL.sub("_", type(error).__name__).lower()


def failure_counts(
    results: Iterable[Any], statuses: Sequence[str] = FAILED_STATUSES
) -> dict[str, int]:
    """Unfinished latents by the kind of their failure."""
    return dict(
        sorted(Counter(r.error_kind or "unknown" for r in results if r.status in statuses).items())
    )


def merge_counts(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    return dict(sorted(total.items()))


def check_failures(
    eval_type_id: str, spec: str, failures: dict[str, int], n_ok: int | None, path: Any
) -> None:
    """Warn about unfinished work; raise when failures left nothing done at all."""
    if not failures:
        return
    kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(failures.items()))
    if n_ok == 0:
        raise AllLLMWorkFailedError(
            f"{eval_type_id} on {spec}: no latent could be explained or scored because the LLM "
            f"requests failed ({kinds}); check --llm-base-url, --llm-model and the API key, "
            f"then run the same command again (details in {path})"
        )
    logger.warning(
        "%s on %s: %d latents unfinished (%s); run the same command again to retry them",
        eval_type_id,
        spec,
        sum(failures.values()),
        kinds,
    )
