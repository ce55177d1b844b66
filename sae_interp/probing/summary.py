"""Pool probe records into per-k and per-baseline summaries over datasets.

A dataset's value is its mean over seeds and setting variants; intervals resample datasets.
The best baseline of a dataset is, per split, the baseline method with the highest
validation AUC (so the choice never looks at test labels).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
from pydantic import BaseModel, Field

from sae_interp.probing.metrics import (
    best_by_validation,
    bootstrap_mean,
    count_matching,
    paired_difference,
    seed_spread,
)
from sae_interp.probing.records import ProbeRecord
from sae_interp.stats import Estimate

BEST = "best_baseline"


class ProbeSummary(BaseModel):
    """One probe (an SAE probe at one k, or a baseline) pooled over datasets."""

    test_auc: Estimate
    test_acc: float | None
    test_f1: float | None
    seed_spread_auc: float | None = Field(
        default=None, description="Std across seeds of the mean test AUC (needs >= 2 seeds)."
    )
    minus_best_baseline_auc: Estimate | None = Field(
        default=None, description="Paired test-AUC difference to the best baseline."
    )
    n_match: int | None = Field(
        default=None,
        description="Datasets where this probe's AUC >= the best baseline's - tolerance.",
    )


class VariantSummary(BaseModel):
    """Mean test AUC over datasets at one training size / fraction of a setting."""

    variant: float | None
    sae_auc: dict[str, float | None] = Field(description="'k16' -> mean test AUC.")
    best_baseline_auc: float | None
    n_datasets: int


def _key(k: int) -> str:
    return f"k{k}"


def per_dataset(
    records: Iterable[ProbeRecord], metric: str
) -> tuple[dict[str, float], dict[int, dict[str, float]]]:
    """Dataset -> mean of ``metric`` over seeds and variants; and seed -> dataset -> mean."""
    by_ds: dict[str, list[float]] = defaultdict(list)
    by_seed: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        value = float(getattr(r, metric))
        by_ds[r.dataset].append(value)
        by_seed[r.seed][r.dataset].append(value)
    means = {d: float(np.mean(v)) for d, v in by_ds.items()}
    seeds = {s: {d: float(np.mean(v)) for d, v in m.items()} for s, m in by_seed.items()}
    return means, seeds


def best_baseline_records(records: Sequence[ProbeRecord]) -> list[ProbeRecord]:
    """Per split, the baseline record with the highest validation AUC, relabelled."""
    groups: dict[tuple[str, str, float | None, int], dict[str, ProbeRecord]] = defaultdict(dict)
    for r in records:
        if r.probe != "sae":
            groups[(r.dataset, r.setting, r.variant, r.seed)][r.probe] = r
    best = []
    for group in groups.values():
        name, _ = best_by_validation({n: (r.val_auc, r.test_auc) for n, r in group.items()})
        best.append(group[name].model_copy(update={"probe": BEST}))
    return best


def summarise_probe(
    records: Sequence[ProbeRecord],
    reference: dict[str, float] | None,
    tolerance: float,
    seed: int,
) -> ProbeSummary:
    auc, auc_by_seed = per_dataset(records, "test_auc")
    acc, _ = per_dataset(records, "test_acc")
    f1, _ = per_dataset(records, "test_f1")
    return ProbeSummary(
        test_auc=bootstrap_mean(list(auc.values()), seed=seed),
        test_acc=float(np.mean(list(acc.values()))) if acc else None,
        test_f1=float(np.mean(list(f1.values()))) if f1 else None,
        seed_spread_auc=seed_spread(auc_by_seed),
        minus_best_baseline_auc=(
            paired_difference(auc, reference, seed=seed) if reference is not None else None
        ),
        n_match=count_matching(auc, reference, tolerance) if reference is not None else None,
    )


def summarise(
    records: Sequence[ProbeRecord], tolerance: float, seed: int = 0
) -> tuple[dict[str, ProbeSummary], dict[str, ProbeSummary], list[VariantSummary]]:
    """(SAE probe per 'k<k>', baselines per method plus 'best_baseline', per-variant means)."""
    baseline_records = [r for r in records if r.probe != "sae"]
    best = best_baseline_records(baseline_records)
    reference = per_dataset(best, "test_auc")[0] if best else None
    by_k: dict[int, list[ProbeRecord]] = defaultdict(list)
    by_method: dict[str, list[ProbeRecord]] = defaultdict(list)
    for r in records:
        if r.probe == "sae" and r.k is not None:
            by_k[r.k].append(r)
        elif r.probe != "sae":
            by_method[r.probe].append(r)
    if best:
        by_method[BEST] = best
    sae = {_key(k): summarise_probe(v, reference, tolerance, seed) for k, v in sorted(by_k.items())}
    baselines = {m: summarise_probe(v, None, tolerance, seed) for m, v in by_method.items()}
    return sae, baselines, _variants(records, best)


def _variants(records: Sequence[ProbeRecord], best: Sequence[ProbeRecord]) -> list[VariantSummary]:
    variants = sorted(
        {r.variant for r in records if r.variant is not None},
    )
    out = []
    for v in variants:
        sae: dict[str, list[float]] = defaultdict(list)
        datasets = set()
        for r in records:
            if r.variant == v and r.probe == "sae" and r.k is not None:
                sae[_key(r.k)].append(r.test_auc)
                datasets.add(r.dataset)
        base = [r.test_auc for r in best if r.variant == v]
        out.append(
            VariantSummary(
                variant=v,
                sae_auc={k: float(np.mean(x)) for k, x in sae.items()},
                best_baseline_auc=float(np.mean(base)) if base else None,
                n_datasets=len(datasets),
            )
        )
    return out
