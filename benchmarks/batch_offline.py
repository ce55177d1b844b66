"""Batch mode against the synchronous client on the real offline judge, in one run.

The same eval, latents and judge twice: synchronously, and in batch mode (``--llm-batch
--llm-batch-wait``) through the loopback Batch API, whose lines the local llama.cpp server
answers. Each run has its own empty response cache. Both go through the loopback server,
so the requests are the same; what differs is the path, synchronous or batch. Reported:

- wall time of each run (batch mode's includes the passes and the polling), and the ratio;
- judge calls and tokens of each; for batch mode, its batches and lines;
- what the tokens would cost at ``--price-model``'s standard price and at its batch price;
- whether every latent's explanation and scores are equal in both runs (greedy decoding on
  one server; equal unless the server's prefix cache changes a logit).

    python benchmarks/batch_offline.py --n-latents 10 --output-dir /tmp/batch_bench
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from sae_interp.evals import get_eval
from sae_interp.framework.runner import run_per_sae
from sae_interp.llm.local import LocalLlamaServer
from sae_interp.llm.pricing import batch_price_of, price_of
from sae_interp.models import load_model
from sae_interp.testing.fake_batch_api import FakeBatchAPI, forward_to


def run(name: str, values: dict[str, Any], model: Any, cache: Path) -> tuple[Any, float]:
    os.environ["SAE_INTERP_CACHE"] = str(cache)
    definition = get_eval(name)
    config = definition.config_cls.model_validate(values)
    start = time.perf_counter()
    (output,) = run_per_sae(definition, config, model=model)
    return output, time.perf_counter() - start


def details(output: Any) -> list[Any]:
    return [
        (d.latent, d.status, d.explanation, d.metrics, d.control_metrics)
        for d in output.eval_result_details
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval", default="autointerp")
    parser.add_argument("--n-latents", type=int, default=10)
    parser.add_argument("--n-tokens", type=int, default=65_536)
    parser.add_argument("--detection-mode", default="saebench")
    parser.add_argument("--price-model", default="gpt-4o-mini")
    parser.add_argument("--output-dir", type=Path, default=Path("batch_bench"))
    args = parser.parse_args()
    out: Path = args.output_dir
    model = load_model("embedded", device="cpu")
    with LocalLlamaServer() as server, FakeBatchAPI(answer=forward_to(server.base_url)) as api:
        llm = {"base_url": api.base_url, "model": server.alias, "concurrency": 1}
        values = {
            "saes": ["embedded"],
            "n_tokens": args.n_tokens,
            "n_latents": args.n_latents,
            "device": "cpu",
            "llm": llm,
        }
        if args.eval == "autointerp":
            values["detection"] = {"mode": args.detection_mode}
        sync, sync_s = run(args.eval, values | {"output_dir": out / "sync"}, model, out / "c1")
        batch_llm = llm | {"batch": True, "batch_wait": True, "batch_poll_s": 1.0}
        values = values | {"output_dir": out / "batch", "llm": batch_llm}
        batched, batch_s = run(args.eval, values, model, out / "c2")
    su = sync.eval_result_metrics.llm_usage
    bu = batched.eval_result_metrics.llm_usage
    price, batch_price = price_of(args.price_model), batch_price_of(args.price_model)
    assert price is not None and batch_price is not None

    def dollars(p: tuple[float, float], prompt: int, completion: int) -> float:
        return (prompt * p[0] + completion * p[1]) / 1e6

    report = {
        "eval": args.eval,
        "latents": args.n_latents,
        "sync_s": round(sync_s, 1),
        "batch_s": round(batch_s, 1),
        "batch_over_sync": round(batch_s / sync_s, 3),
        "sync_calls": su["calls"],
        "sync_prompt_tokens": su["prompt_tokens"],
        "sync_completion_tokens": su["completion_tokens"],
        "batch_batches": bu["batch_batches"],
        "batch_lines": bu["batch_calls"],
        "batch_prompt_tokens": bu["batch_prompt_tokens"],
        "batch_completion_tokens": bu["batch_completion_tokens"],
        "sync_requests_during_batch_run": api.sync_requests - su["calls"],
        f"usd_{args.price_model}": round(
            dollars(price, su["prompt_tokens"], su["completion_tokens"]), 6
        ),
        f"usd_batch_{args.price_model}": round(
            dollars(batch_price, bu["batch_prompt_tokens"], bu["batch_completion_tokens"]), 6
        ),
        "latents_equal": sum(a == b for a, b in zip(details(sync), details(batched), strict=True)),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
