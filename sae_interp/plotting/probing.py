"""Sparse probing: test AUC of the k-sparse SAE probes against k, one line per SAE, with the
best baseline on the raw activations as the line to reach."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from sae_interp.interop.results import interval, sae_label
from sae_interp.plotting.common import new_figure, save_figure

_K = re.compile(r"^k(\d+)$")


def auc_by_k(data: dict[str, Any]) -> list[tuple[int, float, float | None, float | None]]:
    """(k, mean test AUC, lo, hi) of one sparse probing result, by increasing k."""
    rows = []
    for key, summary in (data["eval_result_metrics"].get("sae") or {}).items():
        match = _K.match(key)
        value, lo, hi = interval((summary or {}).get("test_auc"))
        if match and value is not None:
            rows.append((int(match.group(1)), value, lo, hi))
    return sorted(rows)


def probing_auc_vs_k(results: Sequence[dict[str, Any]], path: Path | str | None = None) -> Figure:
    """Each result's mean test AUC at every k with its 95% interval (log-2 k axis), and its
    best baseline's mean AUC as a dashed line of the same colour."""
    figure = new_figure(width=6.4, height=4.0)
    ax = figure.subplots()
    for i, data in enumerate(results):
        rows = auc_by_k(data)
        if not rows:
            continue
        color = f"C{i % 10}"
        ks = np.array([r[0] for r in rows], dtype=float)
        auc = np.array([r[1] for r in rows])
        lo = np.array([r[2] if r[2] is not None else r[1] for r in rows])
        hi = np.array([r[3] if r[3] is not None else r[1] for r in rows])
        ax.errorbar(
            ks,
            auc,
            yerr=np.vstack([auc - lo, hi - auc]),
            marker="o",
            capsize=3,
            color=color,
            label=sae_label(data),
        )
        base = (data["eval_result_metrics"].get("baselines") or {}).get("best_baseline") or {}
        value = interval(base.get("test_auc"))[0]
        if value is not None:
            ax.axhline(value, linestyle="--", linewidth=1, color=color)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("k (latents in the probe)")
    ax.set_ylabel("mean test AUC (dashed: best baseline)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    return save_figure(figure, path)
