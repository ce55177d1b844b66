"""Comparing SAEs: one metric across SAEs with intervals, and core metrics against L0."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from sae_interp.interop.results import interval, lookup, sae_label, scalar
from sae_interp.plotting.common import new_figure, save_figure

CORE_METRICS = ("reconstruction.explained_variance", "model_behaviour.ce_loss_recovered")


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def compare_saes(
    labels: Sequence[str],
    values: Sequence[float | None],
    lo: Sequence[float | None] | None = None,
    hi: Sequence[float | None] | None = None,
    metric: str = "",
    control: Sequence[float | None] | None = None,
    path: Path | str | None = None,
) -> Figure:
    """A bar per SAE with its interval (``lo``/``hi``, when given) as error bars, and the
    control's value as a marker on each bar when given."""
    if len(values) != len(labels):
        raise ValueError(f"{len(labels)} labels but {len(values)} values")
    figure = new_figure(width=max(4.0, 1.3 * len(labels) + 2), height=3.6)
    ax = figure.subplots()
    x = np.arange(len(labels))
    v = np.array([_nan(a) for a in values])
    bars = ax.bar(x, v, color="C0", label=metric or "value")
    if lo is not None and hi is not None:
        low = np.array([_nan(a) for a in lo])
        high = np.array([_nan(a) for a in hi])
        known = ~(np.isnan(low) | np.isnan(high))
        err = np.vstack([np.where(known, v - low, 0.0), np.where(known, high - v, 0.0)])
        ax.errorbar(x, v, yerr=err, fmt="none", ecolor="black", capsize=4, label="95% interval")
    if control is not None:
        ax.scatter(
            x,
            [_nan(c) for c in control],
            marker="_",
            s=400,
            color="C1",
            zorder=3,
            label="shuffled-explanation control",
        )
    ax.bar_label(bars, fmt="%.3g", fontsize=7)
    ax.set_xticks(x, list(labels), rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(metric)
    ax.legend(fontsize=7)
    return save_figure(figure, path)


def compare_results(
    results: Sequence[dict[str, Any]],
    metric: str,
    control_metric: str | None = None,
    path: Path | str | None = None,
) -> Figure:
    """:func:`compare_saes` of the flat metric ``metric`` (e.g. 'detection.balanced_accuracy')
    read from each result's ``eval_result_metrics``: plain values, or ``{value, lo, hi}``
    interval objects whose bounds become error bars."""
    triples = [interval(lookup(d["eval_result_metrics"], metric)) for d in results]
    has_interval = any(t[1] is not None for t in triples)
    control = (
        [scalar(lookup(d["eval_result_metrics"], control_metric)) for d in results]
        if control_metric
        else None
    )
    return compare_saes(
        [f"{sae_label(d)}" for d in results],
        [t[0] for t in triples],
        [t[1] for t in triples] if has_interval else None,
        [t[2] for t in triples] if has_interval else None,
        metric=metric,
        control=control,
        path=path,
    )


def core_vs_l0(
    results: Sequence[dict[str, Any]],
    metrics: Sequence[str] = CORE_METRICS,
    path: Path | str | None = None,
) -> Figure:
    """One panel per metric: each core result as a point at (L0, metric), labelled by SAE."""
    core = [d for d in results if d.get("eval_type_id") == "core"]
    figure = new_figure(width=3.6 * len(metrics), height=3.4)
    axes = figure.subplots(1, len(metrics), squeeze=False)[0]
    for ax, metric in zip(axes, metrics, strict=True):
        for i, data in enumerate(core):
            l0 = scalar(lookup(data["eval_result_metrics"], "sparsity.l0"))
            y = scalar(lookup(data["eval_result_metrics"], metric))
            if l0 is None or y is None:
                continue
            ax.scatter([l0], [y], color=f"C{i}", label=sae_label(data))
            ax.annotate(
                sae_label(data), (l0, y), fontsize=7, xytext=(3, 3), textcoords="offset points"
            )
        ax.set_xlabel("L0 (active latents per token)")
        ax.set_ylabel(metric)
    return save_figure(figure, path)
