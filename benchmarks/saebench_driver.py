"""SAEBench's autointerp on given tokens, latents, SAE weights and judge endpoint, timed by
stage. Runs inside SAEBench's own virtual environment (it imports only SAEBench and its
dependencies, never sae_interp); ``saebench_side_by_side.py`` creates that environment and
calls this with one JSON argument:

    {"model_dir", "tl_name", "model_name", "sae_weights", "k", "hook_layer", "hook_name",
     "tokens", "latents", "n_tokens", "ctx_len", "seed", "batch_size", "artifacts"}

The judge endpoint comes from ``OPENAI_BASE_URL``, as SAEBench's OpenAI client reads it.
Prints one JSON object as its last line: seconds per stage, calls and tokens per kind of call, and the mean
score.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

import torch
from safetensors.torch import load_file


def main() -> None:
    args = json.loads(sys.argv[1])
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    import openai
    import sae_bench.evals.autointerp.main as autointerp
    from sae_bench.custom_saes.topk_sae import TopKSAE
    from sae_bench.evals.autointerp.eval_config import AutoInterpEvalConfig
    from sae_bench.sae_bench_utils import activation_collection
    from transformer_lens import HookedTransformer
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_grad_enabled(False)
    device, dtype = torch.device("cpu"), torch.float32
    hf_model = AutoModelForCausalLM.from_pretrained(
        args["model_dir"], dtype=dtype, local_files_only=True
    )
    tokenizer = AutoTokenizer.from_pretrained(args["model_dir"], local_files_only=True)
    model = HookedTransformer.from_pretrained_no_processing(
        args["tl_name"], hf_model=hf_model, tokenizer=tokenizer, device="cpu", dtype=dtype
    )
    weights = load_file(args["sae_weights"])
    d_in, d_sae = weights["W_enc"].shape
    sae = TopKSAE(
        d_in, d_sae, args["k"], args["model_name"], args["hook_layer"], device, dtype,
        hook_name=args["hook_name"],
    )  # fmt: skip
    # every weight loaded by name; only SAEBench's own buffers (k) are not in the file
    missing, unexpected = sae.load_state_dict(weights, strict=False)
    if unexpected or set(missing) - {"k", "threshold"}:
        raise SystemExit(f"SAE weights do not fit SAEBench's TopKSAE: {missing} {unexpected}")

    config = AutoInterpEvalConfig(
        model_name=args["model_name"],
        override_latents=args["latents"],
        n_latents=None,
        total_tokens=args["n_tokens"],
        llm_context_size=args["ctx_len"],
        llm_batch_size=args["batch_size"],
        llm_dtype="float32",
        random_seed=args["seed"],
    )
    # SAEBench reads its token file from the artifacts folder when it is there
    artifacts = os.path.join(args["artifacts"], "autointerp")
    os.makedirs(artifacts, exist_ok=True)
    name = f"{args['model_name']}_{args['n_tokens']}_tokens_{args['ctx_len']}_ctx.pt"
    torch.save(torch.load(args["tokens"]), os.path.join(artifacts, name))

    timed: dict[str, float] = {}

    def timer(label: str, fn: Any) -> Any:
        def wrapped(*a: Any, **kw: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                timed[label] = timed.get(label, 0.0) + time.perf_counter() - started

        return wrapped

    collection = activation_collection
    collection.get_feature_activation_sparsity = timer(
        "collection_sparsity_s", collection.get_feature_activation_sparsity
    )
    collection.collect_sae_activations = timer(
        "collection_examples_s", collection.collect_sae_activations
    )

    calls: list[dict[str, Any]] = []
    lock = threading.Lock()
    explain_tokens = config.max_tokens_in_explanation

    class Recorded(openai.OpenAI):
        """SAEBench's client, each call's kind, times and tokens recorded."""

        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            create = self.chat.completions.create

            def record(**request: Any) -> Any:
                started = time.perf_counter()
                answer = create(**request)
                kind = "explain" if request.get("max_tokens") == explain_tokens else "score"
                with lock:
                    calls.append(
                        {
                            "kind": kind,
                            "sent": started,
                            "answered": time.perf_counter(),
                            "prompt_tokens": answer.usage.prompt_tokens,
                            "completion_tokens": answer.usage.completion_tokens,
                        }
                    )
                return answer

            self.chat.completions.create = record  # type: ignore[method-assign]

    autointerp.OpenAI = Recorded  # type: ignore[misc]
    started = time.perf_counter()
    results = autointerp.run_eval_single_sae(
        config, sae, model, "cpu", artifacts, os.environ.get("OPENAI_API_KEY", "none")
    )
    eval_s = time.perf_counter() - started
    scores = [r["score"] for r in results.values() if "score" in r]
    out: dict[str, Any] = {
        "eval_s": round(eval_s, 1),
        **{k: round(v, 1) for k, v in timed.items()},
        "llm_stage_s": round(max(c["answered"] for c in calls) - min(c["sent"] for c in calls), 1),
        "latents_scored": len(scores),
        "mean_score": sum(scores) / len(scores) if scores else None,
    }
    for kind in ("explain", "score"):
        mine = [c for c in calls if c["kind"] == kind]
        out[kind] = {
            "calls": len(mine),
            "prompt_tokens": sum(c["prompt_tokens"] for c in mine),
            "completion_tokens": sum(c["completion_tokens"] for c in mine),
            "request_s": round(sum(c["answered"] - c["sent"] for c in mine), 1),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
