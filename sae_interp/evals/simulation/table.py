"""The simulation eval's results table: one row per SAE and run (the configured one and each
compared explainer or negative source), the correlation next to its shuffled-explanation
control and their difference, and what the explainer cost per latent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tabulate import tabulate

from sae_interp.framework.output import BaseEvalOutput
from sae_interp.framework.table import format_estimate


def _estimate(block: Any, metric: str = "correlation") -> str | None:
    if block is None:
        return None
    return format_estimate(getattr(block, metric).model_dump())


def _cost(cost: Any, field: str) -> str | None:
    return None if cost is None else f"{getattr(cost, field):.4g}"


def _row(sae: str, run: str, m: Any, random_sae: Any = None) -> dict[str, Any]:
    return {
        "sae": sae,
        "run": run,
        "correlation": _estimate(m.simulation),
        "shuffled explanation": _estimate(m.shuffled_control),
        "real − shuffled": _estimate(m.real_minus_shuffled_control),
        "random SAE": _estimate(random_sae),
        "per-window correlation": _estimate(m.simulation, "per_window_correlation"),
        "scored": m.n_scored,
        "explainer calls / latent": _cost(m.mean_explanation_cost, "calls"),
        "explainer prompt tokens / latent": _cost(m.mean_explanation_cost, "prompt_tokens"),
        "explainer simulated windows / latent": _cost(m.mean_explanation_cost, "simulated_windows"),
    }


def simulation_table(outputs: Sequence[BaseEvalOutput[Any, Any, Any]]) -> str:
    rows = []
    for output in outputs:
        cfg, m = output.eval_config, output.eval_result_metrics
        sae = output.provenance.sae_spec
        main = f"explainer_kind={cfg.explainer_kind}, negatives={cfg.sampling.negative_strategy}"
        rows.append(_row(sae, main, m, m.random_sae_control))
        rows += [_row(sae, name, summary) for name, summary in m.comparison.items()]
    if not rows:
        return "(no results)"
    empty = {key for key in rows[0] if all(row.get(key) is None for row in rows)}
    return tabulate(
        [{k: v for k, v in row.items() if k not in empty} for row in rows],
        headers="keys",
        tablefmt="github",
    )
