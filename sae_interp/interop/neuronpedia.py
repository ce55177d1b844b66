"""Explanations as Neuronpedia explanation rows (JSONL: ``modelId``, ``layer``, ``index``,
``description``, ``typeName``, ``explanationModelName``), read back by the ``neuronpedia``
explanations format."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sae_interp.base.paths import slugify
from sae_interp.interop.results import hook_layer, model_name, sae_label

HOOK_KINDS = {"hook_resid_post": "res", "hook_resid_pre": "res", "hook_mlp_out": "mlp"}


def default_source_id(hook_name: str) -> str:
    """Neuronpedia names a source '<layer>-<kind>[-<set>]': 'blocks.6.hook_resid_post' ->
    '6-res'. Pass the source id your SAE set has on Neuronpedia when it differs."""
    layer = hook_layer(hook_name)
    kind = next((v for k, v in HOOK_KINDS.items() if hook_name.endswith(k)), "other")
    return f"{layer}-{kind}" if layer is not None else slugify(hook_name)


def explanation_rows(
    data: dict[str, Any],
    model_id: str | None = None,
    source_id: str | None = None,
    type_name: str = "sae_interp_one_shot",
    explanation_model_name: str | None = None,
) -> list[dict[str, Any]]:
    """One row per latent of ``data`` (a stored result) that has an explanation."""
    prov = data["provenance"]
    llm = data["eval_config"].get("llm") or {}
    author = explanation_model_name or llm.get("model") or llm.get("backend") or "unknown"
    rows = []
    for detail in data.get("eval_result_details") or []:
        text = detail.get("explanation") if isinstance(detail, dict) else None
        if not text:
            continue
        rows.append(
            {
                "modelId": model_id or slugify(model_name(data)),
                "layer": source_id or default_source_id(str(prov.get("hook_name", ""))),
                "index": str(detail["latent"]),
                "description": text,
                "typeName": type_name,
                "explanationModelName": author,
            }
        )
    return rows


def write_explanations(
    results: Sequence[tuple[Path, dict[str, Any]]], output_dir: Path, **options: Any
) -> list[Path]:
    """One JSONL per (model, SAE) under ``output_dir``, each latent's explanation once
    (evals of the same SAE share explanations)."""
    by_sae: dict[tuple[str, str], dict[tuple[str, str, str], dict[str, Any]]] = {}
    for _, data in results:
        key = (model_name(data), sae_label(data))
        for row in explanation_rows(data, **options):
            by_sae.setdefault(key, {})[(row["layer"], row["index"], row["description"])] = row
    written = []
    for (model, sae), rows in sorted(by_sae.items()):
        path = Path(output_dir) / f"{slugify(model)}__{slugify(sae)}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        ordered = sorted(rows.values(), key=lambda r: (r["layer"], int(r["index"])))
        path.write_text("".join(json.dumps(r) + "\n" for r in ordered), encoding="utf-8")
        written.append(path)
    return written
