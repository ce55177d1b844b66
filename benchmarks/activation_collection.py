"""Throughput and memory of activation collection.

Measured in one run on the same tokens:
  bare      - forward pass to the SAE's hook layer only (the floor for any collector)
  bare+sae  - the same plus SAE encode (the floor for collecting latents)
  ours      - build_latent_cache: forward, encode, BOS masking, sparse extraction, chunked
              writes, consolidation into per-latent shards and statistics
Reported as tokens/s and ratios (time ours / time bare). Memory: the sparse cache's size on
disk and the collector's peak resident memory, against a dense float32 [tokens, d_sae]
tensor of the same latents; each measured in a fresh subprocess.

With ``--shared-saes N``, instead: N SAEs at the same hook (the shipped ones, then random
TopK SAEs): collected one after another (N forward passes), against one shared pass
(``build_latent_caches``: one forward pass, N encodes), in the same run.

    python benchmarks/activation_collection.py --n-tokens 32768
    python benchmarks/activation_collection.py --n-tokens 16384 --shared-saes 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch

from sae_interp.activations import build_latent_cache
from sae_interp.activations.collect import CacheTarget, build_latent_caches
from sae_interp.data import load_corpus
from sae_interp.models import activations_at_hook, load_model
from sae_interp.saes import BaseSAE, SAEConfig, TopKSAE, load_sae

SHIPPED = ("embedded:topk-4k-k64", "embedded:topk-4k-k32")


def get_sae(spec: str, model) -> BaseSAE:  # type: ignore[no-untyped-def]
    if spec != "random-topk":
        return load_sae(spec, model=model, device="cpu")
    cfg = SAEConfig(
        architecture="topk",
        d_in=model.cfg.d_model,
        d_sae=4096,
        k=64,
        hook_name="blocks.6.hook_resid_post",
    )
    sae = TopKSAE(cfg)
    torch.nn.init.normal_(sae.W_enc, std=0.02)
    torch.nn.init.normal_(sae.W_dec, std=0.02)
    return sae


@torch.inference_mode()
def shared_pass(args: argparse.Namespace) -> dict[str, float]:
    """N SAEs at one hook: N separate collections against one shared pass."""
    model = load_model(args.model, device="cpu")
    saes = [load_sae(spec, model=model, device="cpu") for spec in SHIPPED][: args.shared_saes]
    while len(saes) < args.shared_saes:
        torch.manual_seed(len(saes))
        saes.append(get_sae("random-topk", model))
    tokens = load_corpus(args.corpus, model.tokenizer, args.n_tokens, args.ctx_len)

    def separate() -> None:
        directory = Path(tempfile.mkdtemp())
        for i, sae in enumerate(saes):
            build_latent_cache(
                model, sae, tokens, directory / str(i), batch_size=args.batch_size, progress=False
            )
        shutil.rmtree(directory)

    def shared() -> None:
        directory = Path(tempfile.mkdtemp())
        targets = [CacheTarget(sae, directory / str(i)) for i, sae in enumerate(saes)]
        build_latent_caches(model, targets, tokens, batch_size=args.batch_size, progress=False)
        shutil.rmtree(directory)

    times: dict[str, list[float]] = {"separate": [], "shared": []}
    for _ in range(args.repeats):  # interleaved so drift hits both alike
        times["separate"].append(timed(separate))
        times["shared"].append(timed(shared))
    best = {k: min(v) for k, v in times.items()}
    return {
        "saes": len(saes),
        "tokens": tokens.numel(),
        "separate_s": best["separate"],
        "shared_s": best["shared"],
        "ratio_separate_vs_shared": best["separate"] / best["shared"],
    }


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@torch.inference_mode()
def throughput(args: argparse.Namespace) -> dict[str, float]:
    model = load_model(args.model, device="cpu")
    sae = get_sae(args.sae, model)
    tokens = load_corpus(args.corpus, model.tokenizer, args.n_tokens, args.ctx_len)
    n = tokens.numel()
    hook = sae.cfg.hook_name

    def bare() -> None:
        for i in range(0, len(tokens), args.batch_size):
            activations_at_hook(model, tokens[i : i + args.batch_size], hook)

    def bare_sae() -> None:
        for i in range(0, len(tokens), args.batch_size):
            sae.encode(activations_at_hook(model, tokens[i : i + args.batch_size], hook))

    def ours() -> None:
        directory = Path(tempfile.mkdtemp())
        build_latent_cache(
            model, sae, tokens, directory / "c", batch_size=args.batch_size, progress=False
        )
        shutil.rmtree(directory)

    bare()  # warm-up
    times: dict[str, list[float]] = {"bare": [], "bare+sae": [], "ours": []}
    for _ in range(args.repeats):  # interleaved so drift hits all three alike
        times["bare"].append(timed(bare))
        times["bare+sae"].append(timed(bare_sae))
        times["ours"].append(timed(ours))
    best = {k: min(v) for k, v in times.items()}
    return {
        "tokens": n,
        **{f"{k}_tokens_per_s": n / t for k, t in best.items()},
        "ratio_ours_vs_bare": best["ours"] / best["bare"],
        "ratio_ours_vs_bare_plus_sae": best["ours"] / best["bare+sae"],
    }


class PeakRSS:
    """Samples this process' resident memory every few ms; ``growth_mb`` is the peak seen
    while active minus the level at start (ru_maxrss cannot be reset after model loading)."""

    def __init__(self, interval_s: float = 0.005) -> None:
        import psutil

        self._process = psutil.Process()
        self.interval_s = interval_s
        self.start = self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            time.sleep(self.interval_s)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / 2**20


def child(args: argparse.Namespace) -> None:
    """Collect once, in this fresh process, and report peak RSS growth and cache size."""
    model = load_model(args.model, device="cpu")
    sae = get_sae(args.sae, model)
    tokens = load_corpus(args.corpus, model.tokenizer, args.n_tokens, args.ctx_len)
    directory = Path(tempfile.mkdtemp())
    meter = PeakRSS()
    with torch.inference_mode(), meter:
        if args.child == "sparse":
            cache = build_latent_cache(
                model,
                sae,
                tokens,
                directory / "c",
                batch_size=args.batch_size,
                progress=False,
                chunk_entries=args.chunk_entries,
            )
            size = sum(p.stat().st_size for p in (directory / "c").glob("shard_*.safetensors"))
            n_entries = sum(s["n_entries"] for s in cache.meta["shards"])
        else:
            dense = torch.zeros(tokens.shape[0], tokens.shape[1], sae.cfg.d_sae)
            for i in range(0, len(tokens), args.batch_size):
                dense[i : i + args.batch_size] = sae.encode(
                    activations_at_hook(model, tokens[i : i + args.batch_size], sae.cfg.hook_name)
                )
            size, n_entries = dense.numel() * 4, dense.numel()
    shutil.rmtree(directory)
    print(json.dumps({"peak_rss_growth_mb": meter.growth_mb, "bytes": size, "entries": n_entries}))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="embedded")
    parser.add_argument(
        "--sae", default="embedded", help="SAE spec, or 'random-topk' (4096 latents, k=64)"
    )
    parser.add_argument("--corpus", default="embedded:validation")
    parser.add_argument("--n-tokens", type=int, default=32_768)
    parser.add_argument("--ctx-len", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk-entries", type=int, default=500_000)
    parser.add_argument("--child", choices=["sparse", "dense"], default=None)
    parser.add_argument("--memory-only", action="store_true", help="Skip the throughput part.")
    parser.add_argument(
        "--shared-saes",
        type=int,
        default=0,
        help="Instead: time N SAEs at one hook, one shared pass against N passes.",
    )
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.shared_saes:
        print(json.dumps({"shared_pass": shared_pass(args)}, indent=2))
        return
    result: dict[str, object] = {} if args.memory_only else {"throughput": throughput(args)}
    for kind in ("sparse", "dense"):
        argv = [
            sys.executable,
            __file__,
            "--child",
            kind,
            "--model",
            args.model,
            "--sae",
            args.sae,
            "--corpus",
            args.corpus,
            "--n-tokens",
            str(args.n_tokens),
            "--ctx-len",
            str(args.ctx_len),
            "--batch-size",
            str(args.batch_size),
            "--chunk-entries",
            str(args.chunk_entries),
        ]
        out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
        result[kind] = json.loads(out.strip().splitlines()[-1])
    sparse, dense = result["sparse"], result["dense"]
    assert isinstance(sparse, dict) and isinstance(dense, dict)
    result["memory_ratio_sparse_vs_dense"] = sparse["peak_rss_growth_mb"] / max(
        dense["peak_rss_growth_mb"], 1e-9
    )
    result["disk_ratio_sparse_vs_dense"] = sparse["bytes"] / dense["bytes"]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
