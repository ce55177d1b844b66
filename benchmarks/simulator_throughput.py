"""Simulator throughput on the offline LLM: all-at-once (one forward pass per window, the
prompt log-probs computed in-process from the GGUF, as the offline default does) vs chat (the
local server lists the values), on the same windows in one run; ``--with-server-logprobs``
adds all-at-once through the server's completions echo (very slow: it sorts the vocabulary
in Python at every prompt position).

Windows are real: the test windows (activating + negatives) of a few latents of the shipped
embedded SAE over the embedded corpus. Each latent is simulated with the same fixed
explanation in both modes ("the token <its most frequent peak token>"), since this measures
speed (each arm's mean correlation with the true activations is printed as a check that it
reads something, not as a quality measure). The response cache is off, so every answer is
computed. ``all_at_once_placeholder_0`` is the all-at-once prompt with "0" in the
activation slots instead of "?".

    python benchmarks/simulator_throughput.py --latents 3
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Sequence

import numpy as np

from sae_interp.activations.latents import latent_cache_for, select_latents
from sae_interp.activations.negatives import NegativeSources
from sae_interp.activations.records import LatentRecord
from sae_interp.activations.sampling import SamplingConfig, sample_records
from sae_interp.llm.local_prompt_logprobs import LocalPromptLogprobs
from sae_interp.llm.prompt_logprobs import CompletionsPromptLogprobs
from sae_interp.llm.settings import LLMSettings, open_service
from sae_interp.models import load_model
from sae_interp.saes import load_sae
from sae_interp.scorers import simulation_metrics as sm
from sae_interp.scorers.simulation import SimulatedWindow, Simulator, SimulatorSettings
from sae_interp.text.formatting import top_firing_tokens


def explanation_of(record: LatentRecord, tokenizer: object) -> str:
    decoded = [(w.str_tokens(tokenizer), w.activations) for w in record.train]
    top = top_firing_tokens(decoded, 1)
    return f'the token "{top[0][0]}"' if top else "nothing in particular"


def mean_correlation(
    records: Sequence[LatentRecord], simulated: Sequence[SimulatedWindow]
) -> float | None:
    """Mean over latents of the correlation of predicted and true activations over all
    simulated tokens (windows in record order; failed windows left out)."""
    values, windows = [], iter(simulated)
    for record in records:
        mine = [next(windows) for _ in record.test_with_negatives]
        done = [w for w in mine if w.predicted is not None]
        pred = [x for w in done for x in w.predicted or []]
        true = [x for w in done for x in w.true]
        value = sm.correlation(pred, true) if pred else None
        if value is not None:
            values.append(value)
    return round(float(np.mean(values)), 3) if values else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latents", type=int, default=2)
    parser.add_argument("--window-len", type=int, default=16)
    parser.add_argument("--n-test", type=int, default=3)
    parser.add_argument("--n-negatives", type=int, default=2)
    parser.add_argument("--with-server-logprobs", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    model = load_model("embedded", device="cpu")
    sae = load_sae("embedded", model=model, device="cpu")
    cache = latent_cache_for(model, sae, "embedded:validation", 65_536, 128, 8)
    sampling = SamplingConfig(
        window_len=args.window_len, n_train=10, n_test=args.n_test, n_negatives=args.n_negatives
    )
    latents = select_latents(cache, None, args.latents, 42, min_count=sampling.min_activating)
    sources = NegativeSources(model.tokenizer, sae.W_dec)
    records = [r for r in sample_records(cache, latents, sampling, 42, False, sources) if r.train]
    pairs = [
        (explanation_of(r, model.tokenizer), w) for r in records for w in r.test_with_negatives
    ]
    n_tokens = sum(len(w.tokens) for _, w in pairs)

    results: dict[str, dict[str, float | int | None]] = {}
    llm = LLMSettings(cache=False, concurrency=1)
    with open_service(llm) as service:
        local = LocalPromptLogprobs(service=service)  # its prompts counted in the report
        arms = {
            "all_at_once": ("all_at_once", local, "?"),
            "all_at_once_placeholder_0": ("all_at_once", local, "0"),
            "chat": ("chat", None, "?"),
        }
        if args.with_server_logprobs:
            server = CompletionsPromptLogprobs(service)
            arms["all_at_once_server"] = ("all_at_once", server, "?")
        for name, (mode, client, placeholder) in arms.items():
            settings = SimulatorSettings(mode=mode, placeholder=placeholder)
            simulator = Simulator(settings, model.tokenizer, service, client)
            before = service.report.as_dict()
            start = time.perf_counter()
            simulated = simulator.simulate(pairs)
            seconds = time.perf_counter() - start
            after = service.report.as_dict()
            prompt = after["prompt_tokens"] - before["prompt_tokens"]
            results[name] = {
                "windows": len(pairs),
                "failed_windows": sum(w.predicted is None for w in simulated),
                "simulated_tokens": n_tokens,
                "seconds": round(seconds, 1),
                "seconds_per_latent": round(seconds / len(records), 1),
                "simulated_tokens_per_second": round(n_tokens / seconds, 2),
                "prompt_tokens_per_latent": round(prompt / len(records)),
                "completion_tokens_per_latent": round(
                    (after["completion_tokens"] - before["completion_tokens"]) / len(records)
                ),
                "mean_correlation": mean_correlation(records, simulated),
            }
    chat_seconds = results["chat"]["seconds"]
    for arm in results.values():  # the ratio to chat, measured in the same run
        arm["time_vs_chat"] = round(arm["seconds"] / chat_seconds, 3) if chat_seconds else None
    print(json.dumps({"latents": len(records), **results}, indent=2))


if __name__ == "__main__":
    main()
