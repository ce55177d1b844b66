"""Finding and reading stored results as plain JSON (export, plots and the report read them
this way, so they work on results of any eval, including ones written by other versions)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sae_interp.base.errors import SaeInterpError

logger = logging.getLogger(__name__)

REQUIRED_KEYS = ("eval_type_id", "provenance", "eval_config", "eval_result_metrics")


class ResultsError(SaeInterpError, ValueError):
    """A results path holds no result, or a file that is not one."""


def is_result(data: Any) -> bool:
    return isinstance(data, dict) and all(k in data for k in REQUIRED_KEYS)


def _result_files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
    else:
        # results sit at <dir>/<eval>/<model>__<sae>.json; per-SAE work folders hold JSONL
        yield from sorted(p for p in path.rglob("*.json") if p.is_file())


def load_results(paths: Iterable[Path | str]) -> list[tuple[Path, dict[str, Any]]]:
    """Every result JSON under ``paths`` (files or folders), as (path, data). Folders may
    hold other JSON (configs, SAE files): those are skipped; a file named directly that is
    not a result is an error."""
    found: list[tuple[Path, dict[str, Any]]] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise ResultsError(f"{path}: no such file or directory")
        for file in _result_files(path):
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                if file == path:
                    raise ResultsError(f"{file}: not a readable JSON file ({err})") from None
                continue
            if is_result(data):
                found.append((file, data))
            elif file == path:
                raise ResultsError(f"{file}: not an sae_interp result (no {REQUIRED_KEYS})")
    if not found:
        raise ResultsError(f"no sae_interp results under {', '.join(map(str, paths))}")
    return found


def sae_label(data: dict[str, Any]) -> str:
    return str(data["provenance"].get("sae_spec", "?"))


def model_name(data: dict[str, Any]) -> str:
    prov = data["provenance"]
    return str(prov.get("model_name") or prov.get("model_spec") or "?")


def hook_layer(hook_name: str) -> int | None:
    match = re.search(r"blocks\.(\d+)\.", hook_name)
    return int(match.group(1)) if match else None


def scalar(value: Any) -> float | None:
    """A metric as a float: plain numbers as they are, interval objects by their ``value``;
    None when missing or not a number."""
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def interval(value: Any) -> tuple[float | None, float | None, float | None]:
    """(value, lo, hi) of a metric; lo and hi are None for plain numbers."""
    if isinstance(value, dict):
        return scalar(value), scalar(value.get("lo")), scalar(value.get("hi"))
    return scalar(value), None, None


def lookup(data: dict[str, Any], dotted: str) -> Any:
    """``data['a']['b']`` for ``'a.b'``; None when any step is missing."""
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
