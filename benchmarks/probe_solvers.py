"""The two L2 probe solvers on the same probe jobs, in one run: scikit-learn (sae-probes'
``find_best_reg``, the default) against batched Newton in torch (``--solver torch``), on
the GPU when there is one. Per probe kind (SAE probes at every k, the logistic-regression
baseline on raw activations): worker seconds, the ratio, and the largest test-AUC
difference.

    python benchmarks/probe_solvers.py --datasets 117_us_state_FL,113_movie_sent,105_click_bait
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sae_interp.models import load_model
from sae_interp.probing.datasets import load_dataset
from sae_interp.probing.pooled import activation_cache_dir, cached_pooled_activations
from sae_interp.probing.run import ProbingOptions, ProbingRun, fit_jobs, split_jobs
from sae_interp.probing.torch_logreg import resolve_device
from sae_interp.saes import load_sae


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", default="117_us_state_FL,113_movie_sent,105_click_bait")
    parser.add_argument("--sae", default="embedded:topk-4k-k64")
    parser.add_argument("--max-examples", type=int, default=200)
    parser.add_argument("--ks", default="1,2,4,8,16,32,64,128")
    parser.add_argument("--device", default=None, help="torch solver device (default: auto)")
    args = parser.parse_args()

    model = load_model("embedded", device="cpu")
    sae = load_sae(args.sae, model=model, device="cpu")
    hook = sae.cfg.hook_name
    directory = activation_cache_dir("embedded", model, hook, "last", 1024)
    data = {}
    for name in args.datasets.split(","):
        ds = load_dataset(name, args.max_examples)
        acts, _ = cached_pooled_activations(
            directory,
            name,
            model,
            hook,
            ds.prompts,
            pooling="last",
            max_seq_len=1024,
            batch_size=16,
        )
        data[name] = (acts, ds.labels)

    ks = tuple(int(k) for k in args.ks.split(","))
    runs, seconds, walls = {}, {}, {}
    for solver in ("sklearn", "torch"):
        opts = ProbingOptions(ks=ks, solver=solver, device=args.device, workers=1)
        run = ProbingRun()
        jobs = [j for n, (x, y) in data.items() for j in split_jobs(n, sae, x, y, opts, run)]
        t0 = time.perf_counter()
        seconds[solver] = fit_jobs(jobs, opts, run, progress=False)
        walls[solver] = time.perf_counter() - t0
        runs[solver] = {(r.dataset, r.probe, r.k): r.test_auc for r in run.records}

    device = resolve_device(args.device)
    n_rows = sum(len(y) for _, y in data.values())
    print(f"{len(data)} datasets, {n_rows} rows, SAE k={list(ks)}; torch solver on {device}")
    for kind in ("sae", "logreg"):
        a, b = seconds["sklearn"][kind], seconds["torch"][kind]
        keys = [key for key in runs["sklearn"] if key[1] == kind]
        diff = max(abs(runs["sklearn"][key] - runs["torch"][key]) for key in keys)
        mean = {s: float(np.mean([runs[s][key] for key in keys])) for s in runs}
        print(f"{kind:>6}: sklearn {a:.2f} s, torch {b:.2f} s, ratio {a / b:.2f}x; "
              f"mean test AUC {mean['sklearn']:.4f} vs {mean['torch']:.4f}, "
              f"largest difference {diff:.1e}")  # fmt: skip
    print(f"all probes: sklearn {walls['sklearn']:.1f} s, torch {walls['torch']:.1f} s")


if __name__ == "__main__":
    main()
