"""Throughput of the LLM pipeline (explain + detection + control) against a loopback
OpenAI-compatible server that answers after a fixed latency. This measures our client,
queueing and concurrency, not any model. Three ways are timed in one run, through the same
code the explanation evals use (one-shot explainer, then latents scored in groups of
``concurrency`` latents, each group's results stored as it finishes):

- sequential: concurrency 1 (on the first ``--sequential-latents`` latents: a rate);
- groups: concurrency N, one group at a time (the loop before the work queue);
- queue: concurrency N, the next group submitted while one finishes (what evals do now).

For each: latents per minute, and the mean number of requests in flight over the whole
run as a fraction of the limit (from the service's flight meter).

    python benchmarks/llm_throughput.py --latents 64 --latency-ms 200 --concurrency 16
"""

from __future__ import annotations

import argparse
import json
import random
import time
from typing import Any

from sae_interp.activations.records import LatentRecord, RecordStatus, Window, WindowKind
from sae_interp.evals.common.latent_loop import run_overlapped
from sae_interp.explainers.one_shot import OneShotSettings, explain
from sae_interp.llm import LLMService, OpenAICompatibleBackend
from sae_interp.llm.report import mean_in_flight
from sae_interp.scorers.controls import shuffled_explanation_sources
from sae_interp.scorers.detection import DetectionSettings, plan_latent
from sae_interp.scorers.judge import run_plans
from sae_interp.testing import TINY_WORDS, make_tiny_tokenizer
from sae_interp.testing.fault_server import FaultServer


def synthetic_records(n: int, tokenizer: Any, seed: int = 0) -> list[LatentRecord]:
    rng = random.Random(seed)

    def window(seq: int, active: bool) -> Window:
        ids = tokenizer(
            " ".join(rng.choice(TINY_WORDS) for _ in range(32)), add_special_tokens=False
        )["input_ids"]
        acts = [rng.random() if active else 0.0 for _ in ids]
        kind = WindowKind.activating if active else WindowKind.random_negative
        return Window(
            seq=seq,
            start=1,
            end=33,
            tokens=ids,
            activations=acts,
            kind=kind,
            quantile_bin=seq % 10 if active else None,
        )

    return [
        LatentRecord(
            latent=i,
            status=RecordStatus.ok,
            n_activating_windows=50,
            max_activation=1.0,
            firing_frequency=0.01,
            train=[window(j, True) for j in range(20)],
            test=[window(100 + j, True) for j in range(20)],
            negatives=[window(200 + j, False) for j in range(20)],
        )
        for i in range(n)
    ]


def run_once(
    base_url: str, records: list[LatentRecord], tokenizer: Any, concurrency: int, overlap: int
) -> dict[str, float]:
    service = LLMService(
        OpenAICompatibleBackend("bench", base_url=base_url, api_key_env="NO_KEY_FOR_BENCH"),
        concurrency=concurrency,
    )
    settings = DetectionSettings()
    start = time.perf_counter()
    meter_start = service.flight.reading()
    explanations = {
        e.latent: e.text or ""
        for e in explain(records, tokenizer, service, OneShotSettings(), progress=False)
    }
    controls = shuffled_explanation_sources(list(explanations), seed=0)
    groups = [records[i : i + concurrency] for i in range(0, len(records), concurrency)]

    def score(group: list[LatentRecord]) -> int:
        plans = []
        for record in group:
            for source in (record.latent, controls[record.latent]):
                plans.append(plan_latent(record, explanations[source], tokenizer, settings, 0))
        return len(run_plans(plans, service))

    run_overlapped(groups, score, lambda group, n: None, overlap=overlap)
    elapsed = time.perf_counter() - start
    in_flight = mean_in_flight(meter_start, service.flight.reading())
    service.close()
    usage = service.report.usage
    return {
        "latents": len(records),
        "seconds": round(elapsed, 2),
        "latents_per_minute": round(60 * len(records) / elapsed, 1),
        "calls": service.report.calls,
        "mean_in_flight": round(in_flight, 2),
        "mean_in_flight_fraction_of_limit": round(in_flight / concurrency, 3),
        "prompt_tokens_per_latent": round(usage.prompt_tokens / len(records), 1),
        "cached_prompt_fraction": round(usage.cached_tokens / max(1, usage.prompt_tokens), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latents", type=int, default=64)
    parser.add_argument("--sequential-latents", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    tokenizer = make_tiny_tokenizer()
    records = synthetic_records(args.latents, tokenizer)
    with FaultServer(latency_s=args.latency_ms / 1000, keep_alive=True) as server:
        sequential = run_once(
            server.base_url, records[: args.sequential_latents], tokenizer, 1, overlap=1
        )
        server.forget_prefixes()
        groups = run_once(server.base_url, records, tokenizer, args.concurrency, overlap=1)
        server.forget_prefixes()
        queue = run_once(server.base_url, records, tokenizer, args.concurrency, overlap=2)
    rate = sequential["latents_per_minute"]
    print(
        json.dumps(
            {
                "latency_ms": args.latency_ms,
                "concurrency": args.concurrency,
                "sequential": sequential,
                "groups": groups,
                "queue": queue,
                "speedup_groups": round(groups["latents_per_minute"] / rate, 2),
                "speedup_queue": round(queue["latents_per_minute"] / rate, 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
