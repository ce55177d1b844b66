"""Speed of llama-cpp-python builds serving the offline LLM, side by side in one run.

Each ``--build NAME=WHEEL`` is unpacked (without dependencies) into a temporary folder and
served by ``python -m llama_cpp.server`` with that folder first on ``PYTHONPATH``, so every
build runs the same GGUF with the same server dependencies. Builds take turns, one server at
a time, ``--repeats`` times each. Per build:

- prompt evaluation: a ~``--prompt-words``-word prompt, new each time (its first word
  differs, so the server's reuse of the previous prompt's KV cache does not apply), answered
  with one token: prompt tokens per second;
- decoding: the same prompts answered with ``--decode-tokens`` tokens: generated tokens per
  second, after subtracting that prompt's own evaluation time.

Means with their standard deviation over repeats, and each build's ratio to the first.

    python benchmarks/offline_llm_builds.py \\
        --build portable-0.3.16=~/.cache/sae-interp/wheels/.../llama_cpp_python-0.3.16-*.whl \\
        --build native-0.3.36=/tmp/llama_cpp_python-0.3.36-*.whl
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sae_interp.llm.local import LocalLlamaServer, llama_cpp_command

WORDS = [
    "the",
    "latent",
    "fires",
    "on",
    "closing",
    "brackets",
    "in",
    "code",
    "and",
    "on",
    "the",
    "word",
    "after",
    "a",
    "comma",
    "in",
    "lists",
    "of",
    "numbers",
    "while",
    "the",
    "explanation",
    "says",
    "it",
    "detects",
    "punctuation",
    "that",
    "ends",
    "a",
    "clause",
]


def unpack(wheel: Path, into: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(into), wheel],
        check=True,
    )


def completion(base_url: str, prompt: str, max_tokens: int) -> tuple[float, int, int]:
    """Seconds, prompt tokens, completion tokens of one completion."""
    body = json.dumps(
        {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0.0, "ignore_eos": True}
    ).encode()
    request = urllib.request.Request(
        f"{base_url}/completions", body, {"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        payload = json.loads(response.read())
    seconds = time.perf_counter() - started
    usage = payload["usage"]
    return seconds, int(usage["prompt_tokens"]), int(usage["completion_tokens"])


def measure(folder: Path, n_words: int, decode_tokens: int, turn: int) -> dict[str, float]:
    os.environ["PYTHONPATH"] = f"{folder}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    try:
        server = LocalLlamaServer(command=llama_cpp_command)
        with server:
            prompt_rates, decode_rates = [], []
            for i in range(3):
                words = [f"case{turn}x{i}"] + [WORDS[j % len(WORDS)] for j in range(n_words)]
                prompt = " ".join(words)
                t1, n_prompt, _ = completion(server.base_url, prompt, 1)
                prompt_rates.append(n_prompt / t1)
                other = " ".join([f"case{turn}y{i}", *words[1:]])
                t2, n_prompt2, n_done = completion(server.base_url, other, decode_tokens)
                decode_rates.append((n_done - 1) / max(t2 - n_prompt2 / prompt_rates[-1], 1e-6))
    finally:
        os.environ["PYTHONPATH"] = os.environ["PYTHONPATH"].split(os.pathsep, 1)[1]
    return {
        "prompt_tok_s": statistics.median(prompt_rates),
        "decode_tok_s": statistics.median(decode_rates),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", action="append", required=True, help="NAME=WHEEL")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--prompt-words", type=int, default=400)
    parser.add_argument("--decode-tokens", type=int, default=48)
    args = parser.parse_args()
    builds = dict(item.split("=", 1) for item in args.build)
    with tempfile.TemporaryDirectory() as tmp:
        folders = {}
        for name, wheel in builds.items():
            folders[name] = Path(tmp) / name
            unpack(Path(wheel).expanduser(), folders[name])
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in builds}
        for turn in range(args.repeats):
            for name, folder in folders.items():
                runs[name].append(measure(folder, args.prompt_words, args.decode_tokens, turn))
                print(f"turn {turn} {name}: {runs[name][-1]}", file=sys.stderr)
    first = next(iter(builds))
    print("| build | prompt tokens/s | decode tokens/s | prompt ratio | decode ratio |")
    print("|---|---|---|---|---|")
    base = {k: statistics.mean(r[k] for r in runs[first]) for k in runs[first][0]}
    for name, rows in runs.items():
        cells = []
        for key in ("prompt_tok_s", "decode_tok_s"):
            values = [r[key] for r in rows]
            sd = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):.1f} ± {sd:.1f}")
        ratios = [
            f"{statistics.mean(r[k] for r in rows) / base[k]:.2f}"
            for k in ("prompt_tok_s", "decode_tok_s")
        ]
        print(f"| {name} | {' | '.join(cells)} | {' | '.join(ratios)} |")


if __name__ == "__main__":
    main()
