"""What each explanation-based eval costs per latent on the offline judge, measured.

Runs every eval one after another at its default settings (its shuffled control included)
on the same latents of the default SAE, on the offline backend with no response cache, each
explaining for itself; the model is loaded once and the latent cache is collected before
the first (so no eval pays for collection; ``activation_collection.py`` prices that). For
each eval: the calls, prompt and completion tokens per latent (from its ``llm_usage``) and
its wall time per latent.

    python benchmarks/eval_prices.py --latents 353,366,388
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from typing import Any

from sae_interp.evals import get_eval
from sae_interp.framework.runner import run_per_sae
from sae_interp.models import load_model

EVALS = ("autointerp", "fuzzing", "surprisal", "embedding", "simulation", "intruder")


def price(name: str, model: Any, latents: list[int], n_tokens: int) -> dict[str, Any]:
    definition = get_eval(name)
    config = definition.config_cls.model_validate(
        {
            "saes": ["embedded"],
            "latents": latents,
            "n_tokens": n_tokens,
            "device": "cpu",
            "output_dir": tempfile.mkdtemp(prefix=f"price-{name}-"),
            "llm": {"backend": "local", "cache": False},
        }
    )
    started = time.perf_counter()
    (output,) = run_per_sae(definition, config, model=model)
    seconds = time.perf_counter() - started
    usage = output.eval_result_metrics.llm_usage
    n = len(latents)
    return {
        "eval": name,
        "latents_ok": sum(d.status == "ok" for d in output.eval_result_details),
        "calls_per_latent": round(usage["calls"] / n, 1),
        "prompt_tokens_per_latent": round(usage["prompt_tokens"] / n),
        "completion_tokens_per_latent": round(usage["completion_tokens"] / n),
        "seconds_per_latent": round(seconds / n, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latents", default="353,366,388")
    parser.add_argument("--n-tokens", type=int, default=50_000)
    parser.add_argument("--evals", default=",".join(EVALS))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    latents = [int(x) for x in args.latents.split(",")]
    model = load_model("embedded", device="cpu")
    rows = [price(name, model, latents, args.n_tokens) for name in args.evals.split(",")]
    for row in rows:
        logging.info("%s", row)
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
