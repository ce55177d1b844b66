"""Fan-out on Ray: how latents per minute grow with Ray workers, and what one shared forward
pass saves when several SAEs sit at one hook. Everything in one run, on this machine, Ray
kept on loopback (every node's address is asserted to be in 127.0.0.0/8).

Ray part: autointerp (detection, with its shuffled control) on one tiny SAE, its latents in
one shard per worker (``--executor ray --latent-shards N``), judged by latency-injected
loopback servers, so the run is LLM-bound:

- ``one endpoint``: every worker sends to one server, ``--concurrency`` requests at once in
  all (the cross-worker limit holds it): adding workers must not add load;
- ``own endpoint``: one server per worker (``--llm-base-url URL1,...,URLN``), each held to
  ``--concurrency``: throughput should grow with the workers.

Each configuration starts a fresh Ray cluster (``num_cpus`` = workers) and fresh caches, so
no answer is reused. The times cover the whole command: every stage's tasks, each loading
the model, and the merge.

Collection part: ``activation_collection.py --shared-saes 4`` in a subprocess (4 SAEs at
one hook: 4 passes against one shared pass), reported as the shared pass's time over one
SAE's pass.

    python benchmarks/fanout.py --workers 1,2,4,8 --n-latents 64 --latency-s 0.5
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback, before Ray loads

import ray

from sae_interp.evals import get_eval
from sae_interp.framework.runner import run_per_sae
from sae_interp.testing import TINY_MODEL_SPEC, make_tiny_sae, write_tiny_corpus
from sae_interp.testing.fault_server import FaultServer
from sae_interp.testing.tiny import register_tiny_model

SAMPLING = {"window_len": 8, "n_train": 4, "n_test": 4, "n_negatives": 4, "min_activating": 4}


def one_configuration(
    args: argparse.Namespace, workers: int, own_endpoints: bool, root: Path
) -> dict[str, Any]:
    """Latents per minute with ``workers`` Ray workers, one shard each."""
    work = Path(tempfile.mkdtemp(dir=root))
    ray.init(
        num_cpus=workers,
        include_dashboard=False,
        log_to_driver=False,
        namespace="sae_interp",
        runtime_env={
            "worker_process_setup_hook": "sae_interp.testing.tiny.register_tiny_model",
            "env_vars": {
                "SAE_INTERP_CACHE": str(work / "cache"),
                "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
            },
        },
    )
    try:
        addresses = {n["NodeManagerAddress"] for n in ray.nodes()}
        assert all(
            ipaddress.ip_address(a) in ipaddress.ip_network("127.0.0.0/8") for a in addresses
        )
        servers = [
            FaultServer(latency_s=args.latency_s) for _ in range(workers if own_endpoints else 1)
        ]
        for server in servers:
            server.start()
        try:
            config = get_eval("autointerp").config_cls.model_validate(
                {
                    "model": TINY_MODEL_SPEC,
                    "saes": [args.sae],
                    "corpus": str(args.corpus),
                    "n_tokens": 2048,
                    "ctx_len": 33,
                    "device": "cpu",
                    "output_dir": work / "out",
                    "n_latents": args.n_latents,
                    "sampling": SAMPLING,
                    "executor": "ray",
                    "latent_shards": workers,
                    "llm": {
                        "base_url": ",".join(s.base_url for s in servers),
                        "model": "judge",
                        "concurrency": args.concurrency,
                        "api_key_env": "FANOUT_KEY",
                    },
                }
            )
            started = time.perf_counter()
            (output,) = run_per_sae(get_eval("autointerp"), config)
            seconds = time.perf_counter() - started
        finally:
            for server in servers:
                server.stop()
    finally:
        ray.shutdown()
    scored = output.eval_result_metrics.detection.balanced_accuracy.n
    assert scored == args.n_latents, f"{scored} of {args.n_latents} latents scored"
    return {
        "workers": workers,
        "endpoints": len(servers),
        "seconds": round(seconds, 2),
        "latents_per_min": round(args.n_latents / seconds * 60, 1),
        "requests": sum(s.answered for s in servers),
        "peak_in_flight_per_endpoint": max(s.peak_in_flight for s in servers),
    }


def collection(args: argparse.Namespace) -> dict[str, Any]:
    argv = [
        sys.executable,
        str(Path(__file__).with_name("activation_collection.py")),
        "--shared-saes",
        "4",
        "--n-tokens",
        str(args.collection_tokens),
        "--repeats",
        "1",
    ]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    shared = json.loads(out[out.index("{\n") :])["shared_pass"]  # after the model's prints
    one_sae_s = shared["separate_s"] / shared["saes"]
    return shared | {"shared_vs_one_sae": round(shared["shared_s"] / one_sae_s, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--n-latents", type=int, default=64)
    parser.add_argument("--latency-s", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=2, help="per endpoint")
    parser.add_argument("--collection-tokens", type=int, default=16_384)
    parser.add_argument("--skip-collection", action="store_true")
    parser.add_argument("--only-collection", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("sae_interp.distributed").setLevel(logging.INFO)
    register_tiny_model()
    root = Path(tempfile.mkdtemp(prefix="fanout-"))
    args.corpus = write_tiny_corpus(root / "corpus.txt", n_docs=400)
    args.sae = str(make_tiny_sae(d_sae=256, k=16, seed=0).save(root / "sae"))
    counts = [int(n) for n in args.workers.split(",")]
    rows: list[dict[str, Any]] = []
    for own in (False, True) if not args.only_collection else ():
        for n in counts:
            if own and n == 1:  # one worker, one endpoint: the configuration measured above
                same = next(r for r in rows if r["workers"] == 1)
                rows.append(same | {"mode": "own endpoint"})
                continue
            row = one_configuration(args, n, own, root)
            rows.append(row | {"mode": "own endpoint" if own else "one endpoint"})
            print(json.dumps(rows[-1]), flush=True)
    for row in rows:
        base = next(r for r in rows if r["mode"] == row["mode"] and r["workers"] == counts[0])
        speedup = row["latents_per_min"] / base["latents_per_min"]
        row["speedup"] = round(speedup, 2)
        row["speedup_per_worker"] = round(speedup / (row["workers"] / counts[0]), 2)
    settings = {k: str(v) for k, v in vars(args).items() if k != "corpus"}
    result: dict[str, Any] = {"settings": settings, "ray": rows}
    if not args.skip_collection:
        result["collection_4_saes_one_hook"] = collection(args)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
