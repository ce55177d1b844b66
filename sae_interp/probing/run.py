"""One sparse probing run of one SAE over many datasets.

Per dataset: pooled model activations from the on-disk cache (computed on the first run at
that hook), SAE latents encoded from them (no second model pass), the splits of the setting
for every seed, latents ranked on each training split, then the probe jobs (one per split:
all k for the SAE, and one per baseline method) fitted in parallel over ``workers``
processes. Baseline results depend only on the activations and the split, so they are
stored and reused by every later SAE at the same hook.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm
from transformer_lens import HookedTransformer

from sae_interp.base.paths import cache_dir, stable_hash
from sae_interp.probing.datasets import load_dataset
from sae_interp.probing.pooled import activation_cache_dir, cached_pooled_activations
from sae_interp.probing.probes import (
    ProbeScores,
    effective_ks,
    fit_baseline,
    fit_sparse_probes,
    rank_latents,
)
from sae_interp.probing.records import ProbeRecord, ProbingTiming, SkipRecord
from sae_interp.probing.splits import Skip, Split, make_splits
from sae_interp.saes.base import BaseSAE

logger = logging.getLogger(__name__)

MAX_STORED_LATENTS = 128


@dataclass(frozen=True)
class ProbingOptions:
    """What a run computes (the eval's config maps onto this)."""

    setting: str = "normal"
    variants: tuple[float, ...] = ()
    seeds: tuple[int, ...] = (42,)
    ks: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)
    penalty: str = "l2"
    baselines: tuple[str, ...] = ("logreg",)
    binarize: bool = False
    normalize_ranking: bool = True
    pooling: str = "last"
    max_seq_len: int = 1024
    max_examples: int = 5000
    batch_size: int = 16
    workers: int = 1
    solver: str = "sklearn"
    device: str | None = None


@dataclass
class ProbingRun:
    records: list[ProbeRecord] = field(default_factory=list)
    skips: list[SkipRecord] = field(default_factory=list)
    timing: ProbingTiming | None = None


@dataclass
class ProbeJob:
    """Probes to fit on one split: all k of the SAE probe, or one baseline. Arrays are
    C-ordered like sae-probes' tensors (scikit-learn's solvers round differently on
    column-major copies)."""

    kind: str  # "sae" or a baseline method
    dataset: str
    split: Split
    x_train: np.ndarray
    x_test: np.ndarray
    ks: tuple[int, ...] = ()
    latents: np.ndarray | None = None
    cache_path: Path | None = None

    def __post_init__(self) -> None:
        self.x_train = np.ascontiguousarray(self.x_train)
        self.x_test = np.ascontiguousarray(self.x_test)


def _encode(sae: BaseSAE, acts: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    with torch.inference_mode():
        parts = [
            sae.encode(acts[i : i + batch_size].to(sae.device, sae.dtype)).float().cpu()
            for i in range(0, acts.shape[0], batch_size)
        ]
    return torch.cat(parts).numpy()


def _record(job: ProbeJob, scores: Any, k: int | None = None) -> ProbeRecord:
    latents = None
    if job.latents is not None and k is not None and k <= MAX_STORED_LATENTS:
        latents = [int(i) for i in job.latents[:k]]
    return ProbeRecord(
        dataset=job.dataset,
        setting=job.split.setting,
        variant=job.split.variant,
        seed=job.split.seed,
        probe=job.kind,
        k=k,
        test_auc=scores.test_auc,
        test_acc=scores.test_acc,
        test_f1=scores.test_f1,
        val_auc=scores.val_auc,
        n_train=len(job.split.train_idx),
        n_test=len(job.split.test_idx),
        latents=latents,
    )


def _fit(job: ProbeJob, opts: ProbingOptions) -> tuple[Any, float]:
    """Run in a worker: a list of scores (SAE, one per k) or one score (baseline), or the
    reason it failed; and the seconds the fit took in the worker.

    BLAS runs single-threaded inside a probe: the matrices of one probe are small (rows x at
    most d_model), and a multi-threaded BLAS spends most of its time synchronising threads on
    them (one 900 x 640 logistic-regression baseline: 8.0 s with the default threads, 0.2 s
    with one, the same scores). Parallelism comes from ``--workers`` instead."""
    t0 = time.perf_counter()
    with threadpool_limits(limits=1):
        result = _fit_unlimited(job, opts)
    return result, time.perf_counter() - t0


def _fit_unlimited(job: ProbeJob, opts: ProbingOptions) -> Any:
    try:
        if job.kind == "sae":
            binarize = opts.binarize and job.split.setting == "normal"
            return fit_sparse_probes(
                job.x_train,
                job.split.y_train,
                job.x_test,
                job.split.y_test,
                job.ks,
                penalty=opts.penalty,
                seed=job.split.seed,
                binarize=binarize,
                solver=opts.solver,
                device=opts.device,
            )
        return fit_baseline(
            job.kind,
            job.x_train,
            job.split.y_train,
            job.x_test,
            job.split.y_test,
            job.split.seed,
            solver=opts.solver,
            device=opts.device,
        )
    except ValueError as err:  # e.g. a test split with one class has no AUC
        return f"probe failed: {err}"


def _baseline_key(act_key: str, split: Split, method: str, solver: str) -> str:
    key: dict[str, Any] = {
        "acts": act_key,
        "setting": split.setting,
        "variant": split.variant,
        "seed": split.seed,
        "method": method,
    }
    if method == "logreg" and solver != "sklearn":  # sklearn keys stay as they were
        key["solver"] = solver
    return stable_hash(key)[:24]


def split_jobs(
    name: str,
    sae: BaseSAE,
    acts: torch.Tensor,
    labels: np.ndarray,
    opts: ProbingOptions,
    run: ProbingRun,
    *,
    ood_acts: torch.Tensor | None = None,
    ood_labels: np.ndarray | None = None,
) -> list[ProbeJob]:
    """The probe jobs of one dataset given its pooled activations: its splits (skips go to
    ``run``), the SAE's latents encoded from ``acts`` and ranked per training split."""
    splits = make_splits(opts.setting, labels, ood_labels, opts.variants, opts.seeds)
    for s in splits:
        if isinstance(s, Skip):
            run.skips.append(
                SkipRecord(dataset=name, setting=s.setting, variant=s.variant, reason=s.reason)
            )
    good = [s for s in splits if isinstance(s, Split)]
    if not good:
        return []
    latents = _encode(sae, acts)
    ood_latents = _encode(sae, ood_acts) if ood_acts is not None else None
    raw = acts.numpy()
    raw_ood = ood_acts.numpy() if ood_acts is not None else None
    ks = tuple(effective_ks(opts.ks, latents.shape[1]))
    jobs = []
    for split in good:
        test_lat = ood_latents if split.ood else latents
        test_raw = raw_ood if split.ood else raw
        assert test_lat is not None and test_raw is not None
        top = rank_latents(latents[split.train_idx], split.y_train, opts.normalize_ranking)
        top = top[: max(ks)]
        train_lat = latents[split.train_idx][:, top]
        jobs.append(
            ProbeJob("sae", name, split, train_lat, test_lat[split.test_idx][:, top], ks, top)
        )
        for method in opts.baselines:
            jobs.append(
                ProbeJob(method, name, split, raw[split.train_idx], test_raw[split.test_idx])
            )
    return jobs


def _dataset_jobs(
    name: str,
    model: HookedTransformer,
    model_spec: str,
    sae: BaseSAE,
    opts: ProbingOptions,
    run: ProbingRun,
    counts: dict[str, float],
) -> list[ProbeJob]:
    """Load a dataset, its cached (or newly computed) activations, and its probe jobs;
    baselines stored by an earlier run become records right away."""
    hook = sae.cfg.hook_name
    data = load_dataset(name, opts.max_examples)
    directory = activation_cache_dir(model_spec, model, hook, opts.pooling, opts.max_seq_len)
    kw: dict[str, Any] = {
        "pooling": opts.pooling,
        "max_seq_len": opts.max_seq_len,
        "batch_size": opts.batch_size,
    }
    reason = None
    if len(np.unique(data.labels)) < 2:
        reason = "only one class"
    elif opts.setting == "ood" and data.ood_prompts is None:
        reason = "the sae-probes wheel ships no OOD test set for it"
    if reason is not None:  # before any model pass
        run.skips.append(SkipRecord(dataset=name, setting=opts.setting, reason=reason))
        return []
    t0 = time.perf_counter()
    try:
        acts, hit = cached_pooled_activations(directory, name, model, hook, data.prompts, **kw)
        ood_acts = None
        if opts.setting == "ood" and data.ood_prompts is not None:
            ood_acts, _ = cached_pooled_activations(
                directory, f"{name}__ood", model, hook, data.ood_prompts, **kw
            )
    except ValueError as err:
        run.skips.append(SkipRecord(dataset=name, setting=opts.setting, reason=str(err)))
        return []
    counts["activations_s"] += time.perf_counter() - t0
    counts["cached" if hit else "computed"] += 1
    act_key = f"{directory}/{name}/{len(data.prompts)}/{stable_hash(data.prompts)[:16]}"

    t0 = time.perf_counter()
    jobs = split_jobs(
        name, sae, acts, data.labels, opts, run, ood_acts=ood_acts, ood_labels=data.ood_labels
    )
    todo = []
    for job in jobs:
        if job.kind != "sae":
            job.cache_path = (
                cache_dir("probing_baselines")
                / f"{_baseline_key(act_key, job.split, job.kind, opts.solver)}.json"
            )
            if job.cache_path.exists():
                counts["baselines_cached"] += 1
                scores = ProbeScores(**json.loads(job.cache_path.read_text()))
                run.records.append(_record(job, scores))
                continue
        todo.append(job)
    counts["encode_s"] += time.perf_counter() - t0
    return todo


def fit_jobs(
    jobs: Sequence[ProbeJob], opts: ProbingOptions, run: ProbingRun, progress: bool = True
) -> dict[str, float]:
    """Fit ``jobs`` over ``opts.workers`` processes; records and failures go to ``run``;
    newly fitted baselines are stored for later runs. Returns the worker seconds spent per
    probe kind ("sae" or the baseline method)."""
    parallel = Parallel(n_jobs=opts.workers, return_as="generator")
    results = parallel(delayed(_fit)(job, opts) for job in jobs)
    bar = tqdm(
        zip(jobs, results, strict=True),
        total=len(jobs),
        desc="probing: probes",
        disable=not progress,
    )
    seconds: dict[str, float] = {}
    for job, (result, fit_s) in bar:
        seconds[job.kind] = seconds.get(job.kind, 0.0) + fit_s
        if isinstance(result, str):
            run.skips.append(
                SkipRecord(
                    dataset=job.dataset,
                    setting=job.split.setting,
                    variant=job.split.variant,
                    seed=job.split.seed,
                    probe=job.kind,
                    reason=result,
                )
            )
        elif job.kind == "sae":
            run.records.extend(_record(job, s, k=k) for k, s in zip(job.ks, result, strict=True))
        else:
            run.records.append(_record(job, result))
            if job.cache_path is not None:
                job.cache_path.write_text(json.dumps(dataclasses.asdict(result)))
    return seconds


def run_probing(
    model: HookedTransformer,
    model_spec: str,
    sae: BaseSAE,
    datasets: Sequence[str],
    opts: ProbingOptions,
    *,
    progress: bool = True,
) -> ProbingRun:
    """Probe ``sae``'s latents and the raw activations on every dataset."""
    run = ProbingRun()
    counts: dict[str, float] = dict.fromkeys(
        ("activations_s", "encode_s", "cached", "computed", "baselines_cached"), 0.0
    )
    jobs: list[ProbeJob] = []
    for name in tqdm(datasets, desc="probing: datasets", disable=not progress, unit="dataset"):
        jobs.extend(_dataset_jobs(name, model, model_spec, sae, opts, run, counts))
    t0 = time.perf_counter()
    fit_seconds = fit_jobs(jobs, opts, run, progress)
    run.timing = ProbingTiming(
        activations_s=counts["activations_s"],
        encode_s=counts["encode_s"],
        probes_s=time.perf_counter() - t0,
        n_activation_files_cached=int(counts["cached"]),
        n_activation_files_computed=int(counts["computed"]),
        n_baselines_cached=int(counts["baselines_cached"]),
        n_probe_fits=len(jobs),
        workers=opts.workers,
        fit_s_by_probe={k: round(v, 3) for k, v in sorted(fit_seconds.items())},
    )
    return run


def probe_arrays(
    name: str,
    sae: BaseSAE,
    acts: torch.Tensor,
    labels: np.ndarray,
    opts: ProbingOptions,
    *,
    ood_acts: torch.Tensor | None = None,
    ood_labels: np.ndarray | None = None,
    progress: bool = False,
) -> ProbingRun:
    """Probe one dataset from pooled activations you already hold (no model, no cache)."""
    run = ProbingRun()
    jobs = split_jobs(name, sae, acts, labels, opts, run, ood_acts=ood_acts, ood_labels=ood_labels)
    fit_jobs(jobs, opts, run, progress)
    return run
