"""Per-latent scores of explanation-based evals: with the explanation vs the control, and
recall by activation quantile."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from sae_interp.interop.results import sae_label, scalar
from sae_interp.plotting.common import CONTROL_LABEL, EXPLANATION_LABEL, new_figure, save_figure

# the per-latent score each explanation-based eval is read by, first found wins
LATENT_SCORE_NAMES = ("balanced_accuracy", "accuracy", "auroc")


def _score_name(details: Sequence[dict[str, Any]], metric: str | None) -> str | None:
    if metric is not None:
        return metric
    for d in details:
        metrics = d.get("metrics") or {}
        for name in LATENT_SCORE_NAMES:
            if scalar(metrics.get(name)) is not None:
                return name
    return None


def latent_scores(
    data: dict[str, Any], metric: str | None = None
) -> tuple[str | None, list[float], list[float]]:
    """(metric name, real scores, control scores) over the latents of one result (nan and
    missing values left out)."""
    details = [d for d in data.get("eval_result_details") or [] if isinstance(d, dict)]
    name = _score_name(details, metric)
    if name is None:
        return None, [], []

    def values(key: str) -> list[float]:
        out = [scalar((d.get(key) or {}).get(name)) for d in details]
        return [v for v in out if v is not None and not math.isnan(v)]

    return name, values("metrics"), values("control_metrics")


def _panel_title(data: dict[str, Any]) -> str:
    return f"{data['eval_type_id']} · {sae_label(data)}"


def score_vs_control(
    results: Sequence[dict[str, Any]],
    metric: str | None = None,
    bins: int = 10,
    path: Path | str | None = None,
) -> Figure:
    """One panel per result: the distribution over latents of the per-latent score with the
    explanation and with the shuffled-explanation control (histograms on shared bins, the
    means as vertical lines). Results without per-latent scores get no panel."""
    panels = [(d, *latent_scores(d, metric)) for d in results]
    panels = [p for p in panels if p[1] is not None]
    figure = new_figure(width=max(4.0, 3.6 * len(panels)), height=3.4)
    if not panels:
        figure.text(0.5, 0.5, "no per-latent scores", ha="center")
        return save_figure(figure, path)
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for ax, (data, name, real, control) in zip(axes, panels, strict=True):
        both = real + control
        lo, hi = (min(both), max(both)) if both else (0.0, 1.0)
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
        for values, label, color in (
            (real, EXPLANATION_LABEL, "C0"),
            (control, CONTROL_LABEL, "C1"),
        ):
            if values:
                ax.hist(
                    values, bins=edges, alpha=0.55, color=color, label=f"{label} (n={len(values)})"
                )
                ax.axvline(float(np.mean(values)), color=color, linestyle="--", linewidth=1.5)
        ax.set_title(_panel_title(data), fontsize=9)
        ax.set_xlabel(str(name))
        ax.set_ylabel("latents")
        ax.legend(fontsize=7)
    return save_figure(figure, path)


def _mean_sem(values: list[float]) -> tuple[float, float]:
    mean = float(np.mean(values))
    sem = float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else 0.0
    return mean, sem


def quantile_recall(data: dict[str, Any], key: str = "metrics") -> dict[int, tuple[float, float]]:
    """bin -> (mean recall over latents, standard error) of one result's ``key`` metrics
    ('metrics' or 'control_metrics'); bin 0 is the top activation quantile."""
    per_bin: dict[int, list[float]] = {}
    for d in data.get("eval_result_details") or []:
        recall = ((d.get(key) or {}) if isinstance(d, dict) else {}).get("recall_by_quantile")
        for bin_id, value in (recall or {}).items():
            if scalar(value) is not None and not math.isnan(float(value)):
                per_bin.setdefault(int(bin_id), []).append(float(value))
    return {b: _mean_sem(v) for b, v in sorted(per_bin.items())}


def recall_by_quantile(results: Sequence[dict[str, Any]], path: Path | str | None = None) -> Figure:
    """Recall per activation quantile bin (0 = the latent's strongest windows), mean over
    latents with standard-error bars, explanation vs control, one line pair per result."""
    figure = new_figure()
    ax = figure.subplots()
    plotted = 0
    for i, data in enumerate(results):
        for key, label, style in (
            ("metrics", EXPLANATION_LABEL, "-o"),
            ("control_metrics", CONTROL_LABEL, "--s"),
        ):
            curve = quantile_recall(data, key)
            if not curve:
                continue
            bins = list(curve)
            means, sems = zip(*curve.values(), strict=True)
            ax.errorbar(
                bins,
                means,
                yerr=sems,
                fmt=style,
                color=f"C{i}",
                capsize=3,
                label=f"{_panel_title(data)}: {label}",
            )
            plotted += 1
    ax.set_xlabel("activation quantile bin (0 = top)")
    ax.set_ylabel("recall")
    ax.set_ylim(-0.05, 1.05)
    if plotted:
        ax.legend(fontsize=7)
    else:
        ax.set_title("no per-quantile recall in these results")
    return save_figure(figure, path)
