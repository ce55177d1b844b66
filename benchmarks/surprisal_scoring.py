"""Surprisal scoring throughput: our in-process scoring LM (the few-shot prefix runs once and
its key/value cache is shared by every batch of windows) against the plain approach (each
window scored by a forward pass over prefix + window), on the embedded Gemma with real
validation-corpus windows. Both give the same log-probs (checked here); the speed-up is
measured in the same run.

    python benchmarks/surprisal_scoring.py --windows 40 --window-len 32 --repeats 3
"""

from __future__ import annotations

import argparse
import time

import torch

from sae_interp.data import load_corpus
from sae_interp.models import load_model
from sae_interp.scorers import surprisal_prompts
from sae_interp.scoring_lm.transformer_lens_lm import TransformerLensScoringLM


@torch.inference_mode()
def plain(model, prefix: str, texts: list[str], batch: int) -> list[list[float]]:  # type: ignore[no-untyped-def]
    """One forward pass per batch over prefix + window (right-padded), log-probs of the window."""
    pre = model.to_tokens(prefix, prepend_bos=True)[0]
    out = []
    for i in range(0, len(texts), batch):
        ids = [
            model.tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts[i : i + batch]
        ]
        width = len(pre) + max(len(x) for x in ids)
        tokens = torch.zeros((len(ids), width), dtype=torch.long)
        for row, x in enumerate(ids):
            tokens[row, : len(pre)] = pre
            tokens[row, len(pre) : len(pre) + len(x)] = torch.tensor(x)
        logits = model(tokens)
        for row, x in enumerate(ids):
            lp = torch.log_softmax(logits[row, len(pre) - 1 : len(pre) - 1 + len(x)].float(), -1)
            out.append(lp.gather(-1, torch.tensor(x)[:, None])[:, 0].tolist())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--windows", type=int, default=40)
    parser.add_argument("--window-len", type=int, default=32)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    model = load_model("embedded", device="cpu")
    rows = load_corpus("embedded:validation", model.tokenizer, args.windows * 128, 128)
    texts = [
        model.tokenizer.decode(r[1 : 1 + args.window_len].tolist()) for r in rows[: args.windows]
    ]
    prefix = surprisal_prompts.prefix("Mentions of sports teams and match results.")
    ours = TransformerLensScoringLM(model, batch_size=args.batch)
    a = [r.logprobs for r in ours.continuation_logprobs(prefix, texts)]
    b = plain(model, prefix, texts, args.batch)
    diff = max(abs(x - y) for ra, rb in zip(a, b, strict=True) for x, y in zip(ra, rb, strict=True))
    timings = {}
    for name, fn in [
        ("plain", lambda: plain(model, prefix, texts, args.batch)),
        ("ours", lambda: ours.continuation_logprobs(prefix, texts)),
    ]:
        best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        timings[name] = best
    n_prefix = model.to_tokens(prefix).shape[1]
    print(
        f"windows {args.windows} x ~{args.window_len} tokens, prefix {n_prefix} tokens, batch {args.batch}"
    )
    print(f"max |log-prob difference| {diff:.2e}")
    for name, seconds in timings.items():
        print(f"{name:6s} {seconds:7.2f} s  ({args.windows / seconds:6.1f} windows/s)")
    print(f"speed-up {timings['plain'] / timings['ours']:.2f}x")


if __name__ == "__main__":
    main()
