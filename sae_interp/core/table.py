"""Results tables (one row per SAE) for the terminal and notebooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tabulate import tabulate

from sae_interp.core.output import BaseEvalOutput


def _fmt(value: Any) -> Any:
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
    return tabulate(rows, headers="keys", tablefmt=tablefmt)
