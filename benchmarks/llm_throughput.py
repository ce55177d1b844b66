"""Throughput of the LLM pipeline (explain + detection + control) at a given concurrency,
against a loopback OpenAI-compatible server that answers after a fixed latency. This
measures our client, batching and concurrency, not any model: the speed-up over sequential
calls (concurrency 1) is measured in the same run.

    python benchmarks/llm_throughput.py --latents 24 --latency-ms 200 --concurrency 8
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sae_interp.activations.records import LatentRecord, RecordStatus, Window, WindowKind
from sae_interp.explainers import one_shot_prompts
from sae_interp.explainers.one_shot import OneShotSettings, explain
from sae_interp.llm import LLMService, OpenAICompatibleBackend
from sae_interp.scorers.controls import shuffled_explanation_sources
from sae_interp.scorers.detection import DetectionSettings, plan_latent, run_plans
from sae_interp.testing import TINY_WORDS, make_tiny_tokenizer


def make_server(latency_s: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            time.sleep(latency_s)
            messages = body["messages"]
            last = messages[-1]["content"]
            if messages[0]["content"] == one_shot_prompts.SYSTEM:
                text = "Looks like a pattern.\n[EXPLANATION]: a benchmark pattern"
            else:
                n = sum(line.startswith("Excerpt") for line in last.splitlines())
                text = "[" + ", ".join("0" for _ in range(n)) + "]"
            prompt_tokens = sum(len(m["content"]) for m in messages) // 4
            payload = {
                "id": "b",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": text},
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": len(text) // 4,
                    "total_tokens": 0,
                },
            }
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


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
    base_url: str, records: list[LatentRecord], tokenizer: Any, concurrency: int
) -> dict[str, float]:
    service = LLMService(
        OpenAICompatibleBackend("bench", base_url=base_url), concurrency=concurrency
    )
    settings = DetectionSettings()
    start = time.perf_counter()
    explanations = {
        e.latent: e.text or ""
        for e in explain(records, tokenizer, service, OneShotSettings(), progress=False)
    }
    controls = shuffled_explanation_sources(list(explanations), seed=0)
    group = max(1, concurrency)
    for i in range(0, len(records), group):
        plans = []
        for record in records[i : i + group]:
            plans.append(
                plan_latent(record, explanations[record.latent], tokenizer, settings, seed=0)
            )
            plans.append(
                plan_latent(
                    record, explanations[controls[record.latent]], tokenizer, settings, seed=0
                )
            )
        run_plans(plans, service)
    elapsed = time.perf_counter() - start
    usage = service.report.usage
    return {
        "seconds": elapsed,
        "latents_per_minute": 60 * len(records) / elapsed,
        "calls": service.report.calls,
        "tokens_per_latent": (usage.prompt_tokens + usage.completion_tokens) / len(records),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latents", type=int, default=24)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    tokenizer = make_tiny_tokenizer()
    records = synthetic_records(args.latents, tokenizer)
    server = make_server(args.latency_ms / 1000)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}/v1"
    try:
        sequential = run_once(base_url, records, tokenizer, concurrency=1)
        concurrent = run_once(base_url, records, tokenizer, concurrency=args.concurrency)
    finally:
        server.shutdown()
    print(
        json.dumps(
            {
                "latency_ms": args.latency_ms,
                "latents": args.latents,
                "sequential": sequential,
                f"concurrency_{args.concurrency}": concurrent,
                "speedup": sequential["seconds"] / concurrent["seconds"],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
