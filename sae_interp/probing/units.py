"""Sparse probing results as ``compare`` sees them: one unit per dataset (its test AUC at
every k and its best baseline's, each a mean over seeds and variants), paired across SAEs
when both results drew the same splits."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, create_model

from sae_interp.probing.records import ProbeRecord
from sae_interp.probing.summary import best_baseline_records, per_dataset
from sae_interp.stats import pooled

BEST_BASELINE_FIELD = "best_baseline_auc"


@functools.cache
def dataset_metrics_model(ks: tuple[int, ...]) -> type[BaseModel]:
    """The per-dataset metrics class for the SAE probe sizes ``ks`` (one class per tuple, so
    two results with the same ks compare field by field)."""
    fields: dict[str, Any] = {
        f"auc_k{k}": (float | None, pooled(f"Test AUC of the probe on {k} latents.", default=None))
        for k in ks
    }
    fields[BEST_BASELINE_FIELD] = (
        float | None,
        pooled("Test AUC of the best baseline on raw activations.", default=None),
    )
    return create_model("SparseProbingDatasetMetrics", **fields)


def _means(records: Sequence[ProbeRecord]) -> dict[str, float]:
    return per_dataset(records, "test_auc")[0]


def dataset_units(records: Sequence[ProbeRecord]) -> list[tuple[str, BaseModel]]:
    """(dataset, its metrics) for every dataset with an SAE probe, sorted by name."""
    sae = [r for r in records if r.probe == "sae" and r.k is not None]
    ks = tuple(sorted({r.k for r in sae if r.k is not None}))
    by_k = {k: _means([r for r in sae if r.k == k]) for k in ks}
    best = _means(best_baseline_records([r for r in records if r.probe != "sae"]))
    cls = dataset_metrics_model(ks)
    units = []
    for dataset in sorted({r.dataset for r in sae}):
        values = {f"auc_k{k}": by_k[k].get(dataset) for k in ks}
        units.append((dataset, cls(**values, **{BEST_BASELINE_FIELD: best.get(dataset)})))
    return units


def split_settings(config: Any) -> dict[str, Any]:
    """What a sparse probing config's splits depend on."""
    return {
        "setting": config.setting,
        "variants": config.variants,
        "split_seeds": config.split_seed_list(),
        "max_examples": config.max_examples,
    }


def why_not_paired(config_a: Any, config_b: Any) -> str | None:
    """Two sparse probing results pair dataset by dataset (whatever their SAEs) when they
    drew the same splits; otherwise the settings that differ."""
    a, b = split_settings(config_a), split_settings(config_b)
    differ = [name for name in a if a[name] != b[name]]
    return f"their splits differ ({', '.join(differ)})" if differ else None
