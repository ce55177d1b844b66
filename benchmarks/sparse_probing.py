"""Sparse probing against sae-probes' own entry points, on the same data in one run.

Activations: sae-probes' ``generate_single_dataset_activations`` (batches in file order,
padded to the longest prompt) vs our length-sorted batches, on whole datasets, with the
largest difference between the two. Probes: sae-probes' ``run_sae_evals`` + its
``run_all_baseline_normal`` (logistic regression) vs our jobs on the same activation files,
with one worker and with ``--workers``; the AUCs must agree.

    python benchmarks/sparse_probing.py --datasets 117_us_state_FL,154_athlete_sport_football
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from sae_interp.models import load_model
from sae_interp.probing.datasets import load_dataset
from sae_interp.probing.pooled import pooled_activations
from sae_interp.probing.run import ProbingOptions, ProbingRun, fit_jobs, split_jobs
from sae_interp.saes import load_sae

KS = [1, 2, 4, 8, 16, 32, 64, 128]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", default="117_us_state_FL,154_athlete_sport_football")
    parser.add_argument("--sae", default="embedded:topk-4k-k64")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from sae_probes.constants import DATA_PATH
    from sae_probes.generate_model_activations import generate_single_dataset_activations
    from sae_probes.run_baselines import get_baseline_save_path, run_all_baseline_normal
    from sae_probes.run_sae_evals import get_save_metrics_path, run_sae_evals

    names = args.datasets.split(",")
    model = load_model("embedded", device="cpu")
    sae = load_sae(args.sae, model=model, device="cpu")
    hook, model_name = sae.cfg.hook_name, "gemma-embedded"
    root = Path(tempfile.mkdtemp(prefix="probing_bench_"))
    cache = root / "cache"

    t_theirs = t_ours = 0.0
    diffs, acts = [], {}
    for name in names:
        data = load_dataset(name)
        t0 = time.perf_counter()
        generate_single_dataset_activations(
            model, model_name, DATA_PATH / "cleaned_data" / f"{name}.csv.zst", [hook], cache,
            device="cpu", max_seq_len=1024, batch_size=32,
        )  # fmt: skip
        t_theirs += time.perf_counter() - t0
        theirs = torch.load(cache / f"model_activations_{model_name}/{name}_{hook}.pt")
        t0 = time.perf_counter()
        ours = pooled_activations(model, hook, data.prompts, batch_size=32)
        t_ours += time.perf_counter() - t0
        diffs.append(float((theirs - ours).abs().max() / theirs.abs().max()))
        acts[name] = (theirs, data.labels)
    n_rows = sum(len(a[1]) for a in acts.values())
    print(f"activations ({n_rows} prompts): sae-probes {t_theirs:.1f} s, ours {t_ours:.1f} s, "
          f"ratio {t_theirs / t_ours:.2f}x; max relative difference {max(diffs):.2e}")  # fmt: skip

    t0 = time.perf_counter()
    run_sae_evals(
        sae, model_name, hook, "l2", "normal", ks=KS, datasets=names,
        results_path=root / "res", model_cache_path=cache, device="cpu",
    )  # fmt: skip
    run_all_baseline_normal(
        model_name, hook, results_path=root / "res", model_cache_path=cache, datasets=names,
        device="cpu",
    )  # fmt: skip
    t_sp = time.perf_counter() - t0

    times = {}
    for workers in (1, args.workers):
        opts = ProbingOptions(ks=tuple(KS), workers=workers)
        run = ProbingRun()
        t0 = time.perf_counter()
        jobs = [j for n, (x, y) in acts.items() for j in split_jobs(n, sae, x, y, opts, run)]
        fit_jobs(jobs, opts, run, progress=False)
        times[workers] = time.perf_counter() - t0
    worst = 0.0
    for name in names:
        path = get_save_metrics_path(name, hook, "l2", model_name, root / "res")
        for t in json.loads(path.read_text()):
            (r,) = [r for r in run.records if r.dataset == name and r.k == t["k"]]
            worst = max(worst, abs(r.test_auc - t["test_auc"]))
        path = get_baseline_save_path(name, hook, "logreg", model_name, root / "res")
        (t,) = json.loads(path.read_text())
        (r,) = [r for r in run.records if r.dataset == name and r.probe == "logreg"]
        worst = max(worst, abs(r.test_auc - t["test_auc"]))
    print(f"probes ({len(names)} datasets, SAE k={KS} + logreg baseline): sae-probes "
          f"{t_sp:.1f} s; ours {times[1]:.1f} s with 1 worker ({t_sp / times[1]:.2f}x), "
          f"{times[args.workers]:.1f} s with {args.workers} ({t_sp / times[args.workers]:.2f}x); "
          f"largest test-AUC difference {worst:.1e}")  # fmt: skip
    print("mean SAE AUC at k=16:", np.mean([r.test_auc for r in run.records if r.k == 16]))


if __name__ == "__main__":
    main()
