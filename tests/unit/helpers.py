"""What the unit tests share: scripted LLMs and their configs, read from the text of each
request (the task a prompt states, or a marker of its user message), never by comparing the
request with the prompt module under test, so that a scripted judge notices when a prompt
stops saying what the task is; a loopback OpenAI-compatible server for subprocess tests; a
tiny embedder; a toy probing dataset."""

from __future__ import annotations

import itertools
import json
import random
import re
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

from sae_interp.evals.agentic import AgenticEvalConfig
from sae_interp.evals.autointerp import AutoInterpEvalConfig
from sae_interp.llm import LLMError, ScriptedBackend
from sae_interp.llm.types import LLMRequest
from sae_interp.probing.datasets import ProbingDataset
from sae_interp.testing import TINY_MODEL_SPEC, TINY_WORDS

# --- what a scripted LLM was asked


def task_of(request: LLMRequest) -> str:
    """explain_outputs | explain | saebench | fuzzing | detection | generation | prediction |
    other (e.g. the agent's own steps)."""
    system, last = request.messages[0].content, request.messages[-1].content
    lines = last.splitlines()
    if any(line.startswith("Rose most:") for line in lines):
        return "explain_outputs"
    if any(line.startswith("Example 1:") for line in lines):
        return "explain"
    if "List the numbers of the excerpts" in system:
        return "saebench"
    if "Reply with a list of" in last:
        return "fuzzing" if "marked like <<this>>" in system else "detection"
    if "should activate it strongly" in last:
        return "generation"
    if "Reply with a JSON list of" in last:
        return "prediction"
    return "other"


# --- a loopback OpenAI-compatible chat server (answers from a function of the messages,
# every request recorded, a hook before each answer, e.g. to kill the client)

Messages = tuple[tuple[str, str], ...]


class LoopbackLLM:
    def __init__(self, answer: Callable[[Messages], str]) -> None:
        self.answer = answer
        self.requests: list[Messages] = []  # every request received, in order
        self.answered: list[Messages] = []  # those that got an answer
        self.before_answer: Callable[[int], bool] = lambda n: True  # False: drop the request
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                messages = tuple((m["role"], m["content"]) for m in body["messages"])
                with server._lock:
                    server.requests.append(messages)
                    n = len(server.requests)
                    if not server.before_answer(n):
                        return  # the client is gone
                    text = server.answer(messages)
                    server.answered.append(messages)
                payload = json.dumps(
                    {
                        "id": f"c{n}",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": "stop",
                                "logprobs": None,
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> LoopbackLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- the settings most unit tests run an eval with on the tiny model (small corpus, short
# windows, a few latents), as one dict to extend

TINY_SAMPLING = {"window_len": 8, "n_train": 4, "n_test": 4, "n_negatives": 4, "min_activating": 4}


def tiny_eval_values(tmp_path: Path, corpus: Path, llm: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": TINY_MODEL_SPEC,
        "saes": ["tiny"],
        "corpus": str(corpus),
        "n_tokens": 2048,
        "ctx_len": 33,
        "device": "cpu",
        "output_dir": tmp_path / "out",
        "n_latents": 4,
        "sampling": TINY_SAMPLING,
        "llm": llm,
    }


# --- the autointerp eval: a judge that explains each latent as its top token and answers 1


class Judge:
    """Explains every latent as its top token; answers 1 for every excerpt."""

    def __init__(self, broken_explanations: int = 0, garbage_every: int = 0) -> None:
        self.backend = ScriptedBackend(self.reply)
        self.broken_left = broken_explanations
        self.garbage_every = garbage_every
        self.n_detection = 0

    def reply(self, request):  # type: ignore[no-untyped-def]
        last = request.messages[-1].content
        if task_of(request) == "explain":
            if self.broken_left:
                self.broken_left -= 1
                return "I cannot tell."
            top = last.split('"')[1] if '"' in last else "something"
            return f"It fires on {top}.\n[EXPLANATION]: the token {top}"
        if task_of(request) == "saebench":
            n = sum(line[:1].isdigit() for line in last.splitlines())
            return ", ".join(str(i) for i in range(1, n + 1))  # every example "activates"
        self.n_detection += 1
        if self.garbage_every and self.n_detection % self.garbage_every == 0:
            return LLMError("503 after retries")
        n = sum(line.startswith("Excerpt") for line in last.splitlines())
        return "[" + ", ".join(["1"] * n) + "]"


def autointerp_argv(out: Path, sae: Path, corpus: Path, base_url: str, *extra: str) -> list[str]:
    """The command line of a tiny autointerp run on the tiny model against ``base_url``."""
    return [
        "--model", TINY_MODEL_SPEC, "--saes", str(sae), "--corpus", str(corpus),
        "--n-tokens", "2048", "--ctx-len", "33", "--device", "cpu", "--output-dir", str(out),
        "--n-latents", "4", "--sampling-window-len", "8", "--sampling-n-train", "4",
        "--sampling-n-test", "4", "--sampling-n-negatives", "4",
        "--sampling-min-activating", "4", "--llm-base-url", base_url, "--llm-model", "judge",
        "--log-level", "WARNING", *extra,
    ]  # fmt: skip


def run_autointerp_command(args: list[str]) -> int:
    from sae_interp.evals.autointerp.main import DEFINITION
    from sae_interp.framework.cli import eval_main

    return eval_main(DEFINITION, args)


def autointerp_child(args: list[str]) -> None:
    """The autointerp command in a child process started fresh (``spawn``)."""
    from sae_interp.testing.tiny import register_tiny_model

    register_tiny_model()  # a fresh interpreter has only the built-in model specs
    sys.exit(run_autointerp_command(args))


def autointerp_config(tmp_path: Path, corpus: Path, **kw) -> AutoInterpEvalConfig:  # type: ignore[no-untyped-def]
    """A tiny autointerp run on the tiny model, judged by the ``test-judge`` backend."""
    values = tiny_eval_values(tmp_path, corpus, {"backend": "test-judge", "cache": False})
    return AutoInterpEvalConfig.model_validate(values | kw)


# --- the agentic eval

AGENT_REPLIES = {
    "Propose at least three": json.dumps(
        {
            "hypotheses": [
                {"statement": "the word cat"},
                {"statement": "animals"},
                {"statement": "digits", "negative_control": True},
            ]
        }
    ),
    "Design one new test": '{"text": "the cat sat on the mat", "expected": "high"}',
    "Judge the hypothesis": '{"verdict": "CONFIRMED", "reason": "ok"}',
    "Review the evidence": '{"conclude": true}',
    "Write the final explanation": '{"description": "cat tokens", "labels": ["cat"]}',
}


EXPLAINED = itertools.count()


def agent_reply(request):  # type: ignore[no-untyped-def]
    """A scripted LLM for the agentic eval: explainer, agent steps, generation, prediction."""
    last, task = request.messages[-1].content, task_of(request)
    if task == "explain":
        # numbered, so that no two latents share a text (the control needs a different one)
        token = last.split('"')[1] if '"' in last else "the"
        return f"[EXPLANATION]: the token {token} (#{next(EXPLAINED)})"
    if task == "generation":
        return '{"texts": ["the cat", "a red cat ran", "one two three"]}'
    if task == "other":  # the agent's steps, each named by its task
        return next(v for k, v in AGENT_REPLIES.items() if k in last)
    assert task == "prediction"
    n = int(re.search(r"list of (\d+) integers", last).group(1))  # type: ignore[union-attr]
    return "[" + ", ".join("5" if i % 2 else "0" for i in range(n)) + "]"


def agentic_config(
    tmp_path: Path, corpus_file: Path, backend: str = "agent-script"
) -> AgenticEvalConfig:
    return AgenticEvalConfig.model_validate(
        {
            "model": TINY_MODEL_SPEC,
            "saes": ["tiny"],
            "corpus": str(corpus_file),
            "n_tokens": 2048,
            "ctx_len": 33,
            "device": "cpu",
            "output_dir": tmp_path / "out",
            "n_latents": 2,
            "sampling": {
                "window_len": 8,
                "n_train": 6,
                "train_strategy": "top",
                "n_test": 6,
                "n_negatives": 0,
                "min_activating": 8,
            },
            "agent": {"max_rounds": 4, "min_tests": 3, "top_k": 4},
            "prediction": {"n_per_band": 1, "top_logprobs": 0},
            "llm": {"backend": backend, "cache": False},
        }
    )


# --- the embedding eval and the probing eval


class TinyEmbedder:
    """Word counts over the tiny vocabulary (the real embedder runs in the integration test)."""

    def __init__(self) -> None:
        self.encoded = 0

    def encode(self, texts, **kwargs):  # type: ignore[no-untyped-def]
        self.encoded += len(texts)
        out = np.zeros((len(texts), len(TINY_WORDS)), dtype=np.float32)
        for i, text in enumerate(texts):
            for j, word in enumerate(TINY_WORDS):
                out[i, j] = text.count(word)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def last_word_task(n: int = 400, seed: int = 0) -> ProbingDataset:
    """Label 1 when the prompt ends in 'cat' or 'bird', 0 when it ends in 'dog' or 'tree'."""
    rng = random.Random(seed)
    prompts, labels = [], []
    for i in range(n):
        words = [rng.choice(TINY_WORDS[:20]) for _ in range(rng.randint(2, 8))]
        label = i % 2
        words.append(rng.choice(["cat", "bird"] if label else ["dog", "tree"]))
        prompts.append(" ".join(words))
        labels.append(label)
    return ProbingDataset("toy_last_word", prompts, np.array(labels), category="toy")
