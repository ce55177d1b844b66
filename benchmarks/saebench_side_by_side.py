"""SAEBench's autointerp against ours in SAEBench mode, on the same SAE, latents, tokens and
judge endpoint, in one run; then our default mode's price per latent.

- **SAEBench** (``sae-bench``, pinned below) is installed into a virtual environment of its
  own, created here on the first run (``--venv``), and run there by ``saebench_driver.py``
  on our tokens (written to SAEBench's token file) with our shipped TopK SAE's weights in
  SAEBench's own TopK SAE class. Its OpenAI client is pointed at the judge with
  ``OPENAI_BASE_URL``; it sends from 10 threads, as it does.
- **Ours** runs autointerp with ``--detection-mode saebench`` and no shuffled control, at
  ``--concurrency`` (an endpoint's default when not given), on the same server, without the
  response cache. Our run chooses
  the latents; SAEBench is given them (``override_latents``).
- **The judge** is one llama.cpp server of the offline model without per-token logits (the
  offline backend's generation server), started here and shared by both runs.
- **Our default mode** (per-example judging, with its shuffled control) then runs on
  ``--default-latents`` of the same latents on the offline backend, which reads the answers'
  log-probabilities in-process.

Reports seconds per stage (collection, LLM stage, whole eval without the model load),
calls and tokens for each, and the ratios.

    python benchmarks/saebench_side_by_side.py --n-latents 10 --n-tokens 50000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from llm_stage_profile import Profiled

from sae_interp.activations.latents import latent_cache_key
from sae_interp.base.paths import cache_dir
from sae_interp.data import load_corpus
from sae_interp.evals import get_eval
from sae_interp.framework.runner import run_per_sae
from sae_interp.llm.local import LocalLlamaServer
from sae_interp.llm.settings import LLM_BACKENDS, LLMSettings
from sae_interp.llm.types import LLMBackend
from sae_interp.models import load_model
from sae_interp.models.embedded import EMBEDDED_MODELS, converted_dir
from sae_interp.saes import load_sae
from sae_interp.saes.base import sae_fingerprint
from sae_interp.saes.loading import sae_directory
from sae_interp.scorers.judge import resolved_mode

logger = logging.getLogger("saebench_side_by_side")

SAEBENCH = "sae-bench==0.6.0"
DRIVER = Path(__file__).with_name("saebench_driver.py")


def saebench_python(venv: Path) -> Path:
    """The SAEBench environment's interpreter, creating the environment when it is not
    there (SAEBench and its dependencies, with this environment's torch version)."""
    python = venv / "bin" / "python"
    check = [python, "-c", "import sae_bench.evals.autointerp.main"]
    if python.exists() and subprocess.run(check).returncode == 0:
        return python
    logger.info("creating SAEBench's environment in %s (minutes)", venv)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    torch_pin = f"torch=={torch.__version__.split('+')[0]}"
    subprocess.run([python, "-m", "pip", "install", "-q", SAEBENCH, torch_pin], check=True)
    # PyPI's torchvision is built against the CUDA torch and fails to import next to a CPU
    # one, which breaks transformers' imports; SAEBench's autointerp never uses it
    if "+cpu" in torch.__version__:
        subprocess.run([python, "-m", "pip", "uninstall", "-q", "-y", "torchvision"], check=True)
    subprocess.run(check, check=True)
    return python


def forget_latent_cache(model: Any, sae: Any, n_tokens: int) -> None:
    """Remove our latent cache of these settings, so that our run collects as SAEBench's
    does (the default mode's run, later, reuses it)."""
    defaults = get_eval("autointerp").config_cls.model_validate({"saes": ["embedded"]})
    key = latent_cache_key(
        model.cfg.model_name, str(model.cfg.dtype), sae_fingerprint(sae), defaults.corpus,
        n_tokens, defaults.ctx_len,
    )  # fmt: skip
    shutil.rmtree(cache_dir("latents") / key, ignore_errors=True)


def per_latent(usage: dict[str, Any], n: int) -> dict[str, float]:
    return {
        "calls": round(usage.get("calls", 0) / n, 1),
        "prompt_tokens": round(usage.get("prompt_tokens", 0) / n),
        "completion_tokens": round(usage.get("completion_tokens", 0) / n),
    }


def run_ours(
    args: argparse.Namespace, model: Any, llm: dict[str, Any], mode: str, latents: Any
) -> tuple[Any, Profiled, float, float]:
    """Our autointerp with the LLM calls recorded; (output, recorder, start, seconds)."""
    recorded: list[Profiled] = []

    def factory(settings: LLMSettings, stack: contextlib.ExitStack) -> LLMBackend:
        inner = LLM_BACKENDS.get(llm["backend"])(settings.model_copy(update=llm), stack)
        recorded.append(Profiled(inner))
        return recorded[-1]

    LLM_BACKENDS.register("recorded", factory, overwrite=True)
    definition = get_eval("autointerp")
    config = definition.config_cls.model_validate(
        {
            "saes": [args.sae],
            "n_tokens": args.n_tokens,
            "device": "cpu",
            "output_dir": tempfile.mkdtemp(prefix=f"side-by-side-{mode}-"),
            **({"latents": latents} if latents else {"n_latents": args.n_latents}),
            "shuffled_control": mode != "saebench",
            "detection": {"mode": mode},
            "llm": {"backend": "recorded", "cache": False},
        }
    )
    started = time.perf_counter()
    (output,) = run_per_sae(definition, config, model=model)
    return output, recorded[0], started, time.perf_counter() - started


def llm_stage(recorder: Profiled, started: float) -> dict[str, float]:
    """The LLM stage of a run started at ``started`` (perf_counter)."""
    log = recorder.log
    return {
        # requests overlap and may be answered out of order: first sent to last answered
        "llm_stage_s": round(max(s.answered for s in log) - min(s.sent for s in log), 1),
        "before_first_request_s": round(min(s.sent for s in log) - started, 1),
        "calls": len(log),
        "explain_request_s": round(
            sum(s.answered - s.sent for s in log if s.stage == "explain"), 1
        ),
        "score_request_s": round(sum(s.answered - s.sent for s in log if s.stage == "score"), 1),
    }


def side_by_side(
    args: argparse.Namespace, model: Any, sae: Any, results: dict[str, Any]
) -> list[int]:
    """Ours in SAEBench mode, then SAEBench, on one judge server; the latents ours chose."""
    python = saebench_python(args.venv)
    with LocalLlamaServer(logits_all=False) as server:
        judge = {
            "backend": "openai",
            "base_url": server.base_url,
            "model": server.alias,
            "api_key_env": "SIDE_BY_SIDE_UNUSED_KEY",
            "concurrency": args.concurrency,
        }
        os.environ["SIDE_BY_SIDE_UNUSED_KEY"] = "none"
        forget_latent_cache(model, sae, args.n_tokens)  # both runs collect
        ours, recorder, started, ours_s = run_ours(args, model, judge, "saebench", None)
        latents = sorted(d.latent for d in ours.eval_result_details)
        usage = ours.eval_result_metrics.llm_usage
        results["ours_saebench_mode"] = {
            "eval_s": round(ours_s, 1),
            **llm_stage(recorder, started),
            "prompt_tokens": usage["prompt_tokens"],
            "completion_tokens": usage["completion_tokens"],
            "per_latent": per_latent(usage, len(latents)),
            "latents": latents,
        }
        with tempfile.TemporaryDirectory(prefix="saebench-") as work:
            ctx_len = ours.eval_config.ctx_len
            tokens = load_corpus(ours.eval_config.corpus, model.tokenizer, args.n_tokens, ctx_len)
            torch.save(tokens, Path(work) / "tokens.pt")
            spec = EMBEDDED_MODELS.get("gemma-3-270m")
            request = {
                "model_dir": str(converted_dir(spec.name)),
                "tl_name": spec.tl_name,
                "model_name": spec.name,
                "sae_weights": str(sae_directory(args.sae) / "sae_weights.safetensors"),
                "k": int(sae.cfg.k),
                "hook_layer": int(sae.cfg.hook_name.split(".")[1]),
                "hook_name": sae.cfg.hook_name,
                "tokens": str(Path(work) / "tokens.pt"),
                "latents": latents,
                "n_tokens": args.n_tokens,
                "ctx_len": ctx_len,
                "seed": 42,
                "batch_size": 32,
                "artifacts": work,
            }
            env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "none"}
            done = subprocess.run(
                [python, str(DRIVER), json.dumps(request)],
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise SystemExit(f"SAEBench's run failed:\n{done.stderr[-4000:]}")
            results["saebench"] = json.loads(done.stdout.strip().splitlines()[-1])
    return latents


def default_mode(
    args: argparse.Namespace, model: Any, latents: list[int], results: dict[str, Any]
) -> None:
    """Our default mode on the offline backend, on the first ``--default-latents``."""
    mode = resolved_mode("auto", "local")  # what the offline default judges with
    chosen = latents[: args.default_latents]
    output, recorder, started, seconds = run_ours(args, model, {"backend": "local"}, mode, chosen)
    usage = output.eval_result_metrics.llm_usage
    stage = llm_stage(recorder, started)
    results["ours_default_mode"] = {
        "mode": mode,
        "latents": chosen,
        "eval_s": round(seconds, 1),
        **stage,
        "per_latent": per_latent(usage, len(chosen)),
        "llm_stage_s_per_latent": round(stage["llm_stage_s"] / len(chosen), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sae", default="embedded")
    parser.add_argument("--n-latents", type=int, default=10)
    parser.add_argument("--n-tokens", type=int, default=50_000)
    parser.add_argument("--default-latents", type=int, default=3)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="ours in SAEBench mode (default: an endpoint's, 16; the offline default uses 4)",
    )
    parser.add_argument(
        "--default-only",
        default="",
        help="comma-separated latents: run only our default mode, on these",
    )
    parser.add_argument(
        "--venv", type=Path, default=Path.home() / ".cache/sae_interp/bench/saebench-0.6.0"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    model = load_model("embedded", device="cpu")
    sae = load_sae(args.sae, model=model, device="cpu")
    results: dict[str, Any] = {"settings": {k: str(v) for k, v in vars(args).items()}}
    if args.default_only:
        latents = [int(x) for x in args.default_only.split(",")]
    else:
        latents = side_by_side(args, model, sae, results)
    default_mode(args, model, latents, results)
    if "saebench" in results:
        ours_row, their_row = results["ours_saebench_mode"], results["saebench"]
        their_per_latent = their_row["llm_stage_s"] / max(their_row["latents_scored"], 1)
        results["ratios"] = {
            "eval_s": round(their_row["eval_s"] / ours_row["eval_s"], 2),
            "llm_stage_s": round(their_row["llm_stage_s"] / ours_row["llm_stage_s"], 2),
            "default_llm_s_per_latent_vs_saebench": round(
                results["ours_default_mode"]["llm_stage_s_per_latent"] / their_per_latent, 2
            ),
        }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
