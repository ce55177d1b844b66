"""Results in SAEBench's result-file layout, for the evals that have a SAEBench counterpart
(``core`` and ``autointerp``): ``<output_dir>/<eval>/<release>_<sae_id>_eval_results.json``
with ``eval_type_id``, ``eval_config``, ``eval_id``, ``datetime_epoch_millis``,
``eval_result_metrics`` ({category: {metric: value}}), ``eval_result_details``,
``eval_result_unstructured``, ``sae_bench_commit_hash``, ``sae_lens_id``,
``sae_lens_release_id``, ``sae_lens_version`` and ``sae_cfg_dict``.

SAEBench has no field for the library that produced a file, so ``sae_bench_commit_hash``
names it (``sae_interp-<version>``): these numbers come from sae_interp's implementation,
not SAEBench's code. Counterparts are a registry: a new one maps a result to SAEBench's
metric categories, details and unstructured part.
"""

from __future__ import annotations

import json
import logging
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sae_interp.base.paths import slugify
from sae_interp.base.registry import Registry
from sae_interp.interop.results import lookup, model_name, sae_label, scalar

logger = logging.getLogger(__name__)

Converted = tuple[dict[str, dict[str, Any]], list[dict[str, Any]], dict[str, Any] | None]


@dataclass(frozen=True)
class SaeBenchCounterpart:
    saebench_eval_type_id: str
    convert: Callable[[dict[str, Any]], Converted]


SAEBENCH_COUNTERPARTS: Registry[SaeBenchCounterpart] = Registry("SAEBench counterpart")


def _pick(data: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    metrics = data["eval_result_metrics"]
    out = {name: scalar(lookup(metrics, ours)) for name, ours in mapping.items()}
    return {k: v for k, v in out.items() if v is not None}


def _core(data: dict[str, Any]) -> Converted:
    categories = {
        "model_behavior_preservation": _pick(
            data, {"kl_div_with_sae": "model_behaviour.kl_div_with_sae"}
        ),
        "model_performance_preservation": _pick(
            data,
            {
                "ce_loss_score": "model_behaviour.ce_loss_recovered",
                "ce_loss_with_ablation": "model_behaviour.ce_loss_zero_ablation",
                "ce_loss_with_sae": "model_behaviour.ce_loss_with_sae",
                "ce_loss_without_sae": "model_behaviour.ce_loss_clean",
            },
        ),
        "reconstruction_quality": _pick(
            data,
            {
                "explained_variance": "reconstruction.explained_variance",
                "mse": "reconstruction.mse",
                "cossim": "reconstruction.cosine_similarity",
            },
        ),
        "shrinkage": _pick(data, {"l2_ratio": "reconstruction.relative_norm"}),
        "sparsity": _pick(data, {"l0": "sparsity.l0", "l1": "sparsity.l1"}),
        "token_stats": _pick(
            data,
            {
                "total_tokens_eval_reconstruction": "model_behaviour.n_tokens",
                "total_tokens_eval_sparsity_variance": "n_tokens",
            },
        ),
    }
    details = [
        {
            "index": d["latent"],
            "feature_density": d.get("frequency"),
            "mean_activation": d.get("mean_activation"),
            "max_activation": d.get("max_activation"),
        }
        for d in data.get("eval_result_details") or []
    ]
    return {k: v for k, v in categories.items() if v}, details, None


def latent_score(metrics: dict[str, Any] | None) -> float | None:
    """A latent's detection score as SAEBench reports it: the SAEBench-mode accuracy, or
    in batched mode the balanced accuracy."""
    if not metrics:
        return None
    for name in ("accuracy", "balanced_accuracy"):
        if scalar(metrics.get(name)) is not None:
            return scalar(metrics.get(name))
    return None


def _mean_sd(values: list[float]) -> dict[str, float]:
    return {
        "autointerp_score": statistics.fmean(values),
        "autointerp_std_dev": statistics.stdev(values) if len(values) > 1 else 0.0,
    }


def _autointerp(data: dict[str, Any]) -> Converted:
    unstructured: dict[str, Any] = {}
    real: list[float] = []
    control: list[float] = []
    for d in data.get("eval_result_details") or []:
        score = latent_score(d.get("metrics"))
        if d.get("explanation") is None or score is None:
            continue
        real.append(score)
        unstructured[str(d["latent"])] = {
            "explanation": d["explanation"],
            "score": score,
            "explanation_source": d.get("explanation_source"),
        }
        other = latent_score(d.get("control_metrics"))
        if other is not None:
            control.append(other)
    metrics: dict[str, dict[str, Any]] = {"autointerp": _mean_sd(real)} if real else {}
    if control:
        metrics["sae_interp_shuffled_control"] = _mean_sd(control)
    return metrics, [], unstructured


SAEBENCH_COUNTERPARTS.register("core", SaeBenchCounterpart("core", _core))
SAEBENCH_COUNTERPARTS.register("autointerp", SaeBenchCounterpart("autointerp", _autointerp))


def _installed(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def sae_lens_names(sae_spec: str) -> tuple[str, str]:
    """(release, sae id): a 'saelens:RELEASE/SAE_ID' spec as it is, any other spec as
    ('sae_interp', spec)."""
    if sae_spec.startswith("saelens:") and "/" in sae_spec:
        release, sae_id = sae_spec.removeprefix("saelens:").split("/", 1)
        return release, sae_id
    return "sae_interp", sae_spec


def saebench_result(
    data: dict[str, Any], release: str | None = None, sae_id: str | None = None
) -> dict[str, Any]:
    """``data`` (a stored result of an eval with a counterpart) in SAEBench's layout."""
    counterpart = SAEBENCH_COUNTERPARTS.get(data["eval_type_id"])
    metrics, details, unstructured = counterpart.convert(data)
    prov = data["provenance"]
    default_release, default_id = sae_lens_names(sae_label(data))
    when = prov.get("finished_at") or prov.get("started_at")
    millis = int(datetime.fromisoformat(when).timestamp() * 1000) if when else 0
    return {
        "eval_type_id": counterpart.saebench_eval_type_id,
        "eval_config": {"model_name": model_name(data), **data["eval_config"]},
        "eval_id": data.get("eval_id"),
        "datetime_epoch_millis": millis,
        "eval_result_metrics": metrics,
        "eval_result_details": details,
        "eval_result_unstructured": unstructured,
        "sae_bench_commit_hash": f"sae_interp-{prov.get('sae_interp_version', 'unknown')}",
        "sae_lens_id": sae_id or default_id,
        "sae_lens_release_id": release or default_release,
        "sae_lens_version": _installed("sae-lens"),
        "sae_cfg_dict": prov.get("sae_cfg") or {},
    }


def write_results(
    results: Sequence[tuple[Path, dict[str, Any]]],
    output_dir: Path,
    release: str | None = None,
    sae_id: str | None = None,
) -> list[Path]:
    """Each result with a counterpart as ``<output_dir>/<eval>/<release>_<sae_id>_eval_results.json``;
    the others are logged and skipped."""
    written = []
    for path, data in results:
        if data["eval_type_id"] not in SAEBENCH_COUNTERPARTS:
            logger.info("%s: %s has no SAEBench counterpart; skipped", path, data["eval_type_id"])
            continue
        out = saebench_result(data, release, sae_id)
        name = (
            f"{slugify(out['sae_lens_release_id'])}_{slugify(out['sae_lens_id'])}_eval_results.json"
        )
        target = Path(output_dir) / out["eval_type_id"] / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(out, indent=2), encoding="utf-8")
        written.append(target)
    return written
