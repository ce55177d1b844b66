"""Results tables (one row per SAE) for the terminal and notebooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tabulate import tabulate

from sae_interp.framework.output import BaseEvalOutput, is_estimate


def format_estimate(value: dict[str, Any]) -> str:
    """'value [lo, hi]' (the value alone when there is no interval, 'n/a' when undefined)."""
    if value.get("value") is None:
        return "n/a"
    if value.get("lo") is None or value.get("hi") is None:
        return f"{value['value']:.3g}"
    return f"{value['value']:.3g} [{value['lo']:.3g}, {value['hi']:.3g}]"


def _fmt(value: Any) -> Any:
    if is_estimate(value):
        return format_estimate(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return value


def results_rows(
    outputs: Sequence[BaseEvalOutput[Any, Any, Any]], columns: Sequence[str] = ()
) -> list[dict[str, Any]]:
    rows = []
    for output in outputs:
        flat = output.flat_metrics()
        keys = list(columns) or list(flat)
        row = {"eval": output.eval_type_id, "sae": output.provenance.sae_spec}
        row.update({key: _fmt(flat.get(key)) for key in keys})
        rows.append(row)
    return rows


def results_table(
    outputs: Sequence[BaseEvalOutput[Any, Any, Any]],
    columns: Sequence[str] = (),
    tablefmt: str = "github",
) -> str:
    rows = results_rows(outputs, columns)
    if not rows:
        return "(no results)"
    # columns no row has a value for (e.g. another mode's metric, a control that is off)
    empty = {key for key in rows[0] if all(row.get(key) is None for row in rows)}
    rows = [{k: v for k, v in row.items() if k not in empty} for row in rows]
    return tabulate(rows, headers="keys", tablefmt=tablefmt)


def arms_table(
    outputs: Sequence[BaseEvalOutput[Any, Any, Any]],
    scores: Sequence[tuple[str, str, str]],
    arms: Sequence[tuple[str, str]],
    tablefmt: str = "github",
) -> str:
    """One row per SAE and score, the score's controls side by side: ``scores`` are
    (eval, metric, flat key of the real score); ``arms`` are (column title, flat key template
    with ``{eval}`` and ``{metric}``). Scores no SAE has and arm columns no row has are left
    out."""
    rows = []
    for output in outputs:
        flat = output.flat_metrics()
        for eval_name, metric, key in scores:
            if flat.get(key) is None:
                continue
            row = {"sae": output.provenance.sae_spec, "eval": eval_name, "metric": metric}
            row["real"] = _fmt(flat[key])
            for title, template in arms:
                row[title] = _fmt(flat.get(template.format(eval=eval_name, metric=metric)))
            rows.append(row)
    if not rows:
        return "(no results)"
    empty = {key for key in rows[0] if all(row.get(key) is None for row in rows)}
    rows = [{k: v for k, v in row.items() if k not in empty} for row in rows]
    return tabulate(rows, headers="keys", tablefmt=tablefmt)
