"""Pooling declared with the metric.

A per-latent metrics class marks each field that pools with :func:`pooled` (a mean over
latents with a bootstrap interval); :func:`pooled_model` derives the pooled output class from
those declarations, so no pooled field is ever matched by name at run time and a new metric
pools the moment it is declared. Undefined per-latent values (None, NaN) are left out of the
mean and counted.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field, create_model

from sae_interp.stats.intervals import (
    Estimate,
    IntervalSettings,
    bootstrap_mean,
    difference_of_means,
    paired_difference,
)

_POOL_KEY = "pooled"


_BOOKKEEPING_KEY = "bookkeeping"


def pooled(description: str = "", *, bookkeeping: bool = False, **kwargs: Any) -> Any:
    """A metric field that pools as a mean over latents, with an interval. A
    ``bookkeeping`` field (e.g. the fraction of unreadable answers) describes the run, not
    the latents: it is pooled and reported, but ``compare`` does not test it."""
    extra: dict[str, Any] = {_POOL_KEY: "mean"}
    if bookkeeping:
        extra[_BOOKKEEPING_KEY] = True
    return Field(description=description, json_schema_extra=extra, **kwargs)


def pooled_fields(metrics_cls: type[BaseModel], *, scores_only: bool = False) -> tuple[str, ...]:
    """The fields ``metrics_cls`` declares as pooled, in declaration order (without the
    bookkeeping ones when ``scores_only``)."""
    names = []
    for name, info in metrics_cls.model_fields.items():
        extra = info.json_schema_extra
        if not isinstance(extra, dict) or not extra.get(_POOL_KEY):
            continue
        if scores_only and extra.get(_BOOKKEEPING_KEY):
            continue
        names.append(name)
    if not names:
        raise TypeError(f"{metrics_cls.__name__} declares no pooled metric (use pooled())")
    return tuple(names)


@functools.cache
def pooled_model(metrics_cls: type[BaseModel]) -> type[BaseModel]:
    """The pooled counterpart of ``metrics_cls``: one :class:`Estimate` per pooled field,
    plus the number of latents pooled."""
    fields: dict[str, Any] = {
        name: (Estimate, Field(description=metrics_cls.model_fields[name].description))
        for name in pooled_fields(metrics_cls)
    }
    return create_model(
        f"Pooled{metrics_cls.__name__}",
        __doc__=f"{metrics_cls.__name__} pooled over latents: mean and bootstrap interval.",
        n_latents=(int, Field(description="Latents (or pairs of latents) pooled.")),
        **fields,
    )


def _checked(metrics_cls: type[BaseModel], items: Sequence[BaseModel | None]) -> list[BaseModel]:
    kept = [m for m in items if m is not None]
    for m in kept:
        if not isinstance(m, metrics_cls):
            raise TypeError(f"expected {metrics_cls.__name__}, got {type(m).__name__}")
    return kept


def pool(
    metrics_cls: type[BaseModel],
    items: Sequence[BaseModel | None],
    settings: IntervalSettings | None = None,
) -> BaseModel | None:
    """Mean and interval of every pooled field over ``items`` (None entries skipped); None
    when there is nothing to pool."""
    kept = _checked(metrics_cls, items)
    if not kept:
        return None
    values = {
        name: bootstrap_mean([getattr(m, name) for m in kept], settings)
        for name in pooled_fields(metrics_cls)
    }
    return pooled_model(metrics_cls)(n_latents=len(kept), **values)


def pool_paired_difference(
    metrics_cls: type[BaseModel],
    pairs: Sequence[tuple[BaseModel | None, BaseModel | None]],
    settings: IntervalSettings | None = None,
) -> BaseModel | None:
    """first - second per latent (e.g. real minus shuffled-explanation control), pooled over
    the latents that have both, with an interval over those pairs."""
    both = [(a, b) for a, b in pairs if a is not None and b is not None]
    if not both:
        return None
    first = _checked(metrics_cls, [a for a, _ in both])
    second = _checked(metrics_cls, [b for _, b in both])
    values = {
        name: paired_difference(
            [getattr(m, name) for m in first], [getattr(m, name) for m in second], settings
        )
        for name in pooled_fields(metrics_cls)
    }
    return pooled_model(metrics_cls)(n_latents=len(both), **values)


def pool_difference(
    metrics_cls: type[BaseModel],
    first: Sequence[BaseModel | None],
    second: Sequence[BaseModel | None],
    settings: IntervalSettings | None = None,
) -> BaseModel | None:
    """mean(first) - mean(second) for two independent sets of latents (e.g. an SAE and its
    random-SAE control), with an interval that resamples each set."""
    a, b = _checked(metrics_cls, first), _checked(metrics_cls, second)
    if not a or not b:
        return None
    values = {
        name: difference_of_means(
            [getattr(m, name) for m in a], [getattr(m, name) for m in b], settings
        )
        for name in pooled_fields(metrics_cls)
    }
    return pooled_model(metrics_cls)(n_latents=len(a) + len(b), **values)
