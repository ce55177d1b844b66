"""``kill -9`` at a scripted point, then the same command: no answered request is asked
again, and the result equals that of an uninterrupted run.

The killed run is a child process started fresh (``spawn``: a forked copy of this process
could inherit locks held by its other threads, the loopback endpoint's among them); it is
killed with SIGKILL by the loopback endpoint just before it answers the n-th request. The rerun and the clean run go through the same command
line entry point in this process.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    LoopbackLLM,
    Messages,
    autointerp_argv,
    autointerp_child,
    run_autointerp_command,
)

from sae_interp.explainers import one_shot_prompts
from sae_interp.testing import make_tiny_sae


def answer(messages: Messages) -> str:
    last = messages[-1][1]
    if messages[0][1] == one_shot_prompts.SYSTEM:
        top = last.split('"')[1] if '"' in last else "something"
        return f"It fires on {top}.\n[EXPLANATION]: the token {top}"
    n = sum(line.startswith("Excerpt") for line in last.splitlines())
    return "[" + ", ".join("1" if i % 2 else "0" for i in range(n)) + "]"


def argv(out: Path, sae: Path, corpus: Path, base_url: str) -> list[str]:
    return autointerp_argv(out, sae, corpus, base_url, "--llm-concurrency", "1",
                           "--llm-max-retries", "0")  # fmt: skip


def result(out: Path) -> dict[str, Any]:
    (path,) = (out / "autointerp").glob("*.json")
    data = json.loads(path.read_text())
    data["eval_result_metrics"].pop("llm_usage")
    return {
        "metrics": data["eval_result_metrics"],
        "details": data["eval_result_details"],
        "failures": data["failures"],
    }


@pytest.mark.parametrize("kill_at", [3, 9])  # while explaining; while scoring
def test_kill_9_then_rerun_repeats_nothing_and_matches_a_clean_run(
    kill_at: int, tmp_path: Path, corpus_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    sae = make_tiny_sae(d_sae=32, k=4).save(tmp_path / "sae")
    victim: list[multiprocessing.process.BaseProcess] = []

    def kill_before_answering(n: int) -> bool:
        if n == kill_at:
            os.kill(victim[0].pid, signal.SIGKILL)  # type: ignore[arg-type]
            return False
        return True

    with LoopbackLLM(answer) as llm:
        llm.before_answer = kill_before_answering
        args = argv(tmp_path / "out", sae, corpus_file, llm.base_url)
        child = multiprocessing.get_context("spawn").Process(
            target=autointerp_child, args=(args,), daemon=True
        )
        victim.append(child)
        child.start()
        child.join(timeout=300)
        if child.is_alive():
            child.kill()
            child.join()
        assert child.exitcode == -signal.SIGKILL
        answered_before_kill = list(llm.answered)
        assert len(answered_before_kill) == kill_at - 1

        llm.before_answer = lambda n: True
        first_new = len(llm.requests)
        assert run_autointerp_command(args) == 0  # the same command again
        resent = llm.requests[first_new:]
        assert not set(resent) & set(answered_before_kill)  # no answered request asked again

        monkeypatch.setenv("SAE_INTERP_CACHE", str(tmp_path / "clean_cache"))
        assert run_autointerp_command(argv(tmp_path / "clean", sae, corpus_file, llm.base_url)) == 0
        n_clean = len(llm.requests) - first_new - len(resent)
    assert len(answered_before_kill) + len(resent) == n_clean  # nothing lost, nothing twice
    assert result(tmp_path / "out") == result(tmp_path / "clean")
