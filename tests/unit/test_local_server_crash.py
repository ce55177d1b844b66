"""A local LLM server process that dies mid-run is reported as a crash: one sentence with its
pid, signal and log, no retries as if an endpoint were unreachable, and no latent stored as
done. The server is a stand-in process (the loopback judge) that kills itself with SIGSEGV on
a chosen completion request, as the crashing llama.cpp build did."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import tiny_eval_values

import sae_interp.llm.local as local
from sae_interp.evals.autointerp import AutoInterpEvalConfig, run_eval
from sae_interp.llm import LLMRunAborted, LLMService
from sae_interp.llm.local import LocalLlamaServer, LocalServerBackend, describe_exit
from sae_interp.llm.openai_backend import OpenAICompatibleBackend
from sae_interp.llm.types import ChatMessage, LLMRequest
from sae_interp.testing import make_tiny_sae


def stand_in(die_at: int | None) -> local.ServerCommand:
    def command(
        model: Path | None,
        port: int,
        alias: str,
        n_ctx: int,
        n_threads: int | None,
        logits_all: bool,
    ) -> list[str]:
        argv = [sys.executable, "-m", "sae_interp.testing.fault_server", "--port", str(port)]
        return argv + (["--die-at", str(die_at)] if die_at is not None else [])

    return command


def server(die_at: int | None) -> LocalLlamaServer:
    return LocalLlamaServer(command=stand_in(die_at), needs_runtime=False, startup_timeout_s=60)


def request(text: str) -> LLMRequest:
    return LLMRequest(messages=(ChatMessage(role="user", content=text),), max_tokens=8)


def test_exit_descriptions() -> None:
    assert describe_exit(-int(signal.SIGSEGV)) == "exited with signal SIGSEGV"
    assert describe_exit(3) == "exited with code 3"


def test_a_server_killed_mid_run_stops_the_run_with_its_pid_signal_and_log() -> None:
    with server(die_at=3) as srv:
        pid, log = srv.pid, srv.log_path
        client = OpenAICompatibleBackend(srv.alias, srv.base_url, "UNSET_KEY_ENV", 10.0)
        service = LLMService(
            LocalServerBackend(client, srv), concurrency=1, max_retries=5, backoff_base_s=0.5
        )
        started = time.monotonic()
        with pytest.raises(LLMRunAborted) as info:
            service.complete_all([request(f"q{i}") for i in range(6)])
        elapsed = time.monotonic() - started
        service.close()
    message = str(info.value)
    assert f"the local LLM server (pid {pid}) exited with signal SIGSEGV; log: {log}" in message
    report = service.report
    assert report.calls == 2  # the two answers before the crash
    assert report.failed_by_kind["server_exited"] == 1
    assert report.retries == 0  # not retried as an unreachable endpoint
    assert elapsed < 10  # five backoffs (0.5 + 1 + 2 + 4 + 8 s) would take longer


def test_a_crash_during_an_eval_stores_no_latent_as_done(
    tmp_path: Path, corpus_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The eval runs its offline default (the local backend); the server dies on its fifth
    request, inside the explanation stage. A rerun against a healthy server scores every
    latent, none skipped as already done."""
    die_at: list[int | None] = [5]
    monkeypatch.setattr(local, "LocalLlamaServer", lambda **kw: server(die_at[0]))
    config = AutoInterpEvalConfig.model_validate(
        tiny_eval_values(tmp_path, corpus_file, {"concurrency": 1, "cache": False})
    )
    sae = make_tiny_sae(d_sae=32, k=4)
    with pytest.raises(LLMRunAborted, match=r"exited with signal SIGSEGV; log: .*server-\d+\.log"):
        run_eval(config, saes={"tiny": sae})
    stores = list((tmp_path / "out").rglob("latents_*.jsonl"))
    assert sum(len(p.read_text().splitlines()) for p in stores) == 0
    die_at[0] = None
    (out,) = run_eval(config, saes={"tiny": sae})
    details = out.eval_result_details
    assert len(details) == 4 and all(d.status == "ok" for d in details)


def test_a_crash_on_the_last_call_of_a_batch_stops_the_caller() -> None:
    """One request, and the server dies on it: the batch raises, it does not hand back an
    error in the slot as if the next call could succeed."""
    with server(die_at=1) as srv:
        client = OpenAICompatibleBackend(srv.alias, srv.base_url, "UNSET_KEY_ENV", 10.0)
        service = LLMService(LocalServerBackend(client, srv), concurrency=1)
        with pytest.raises(LLMRunAborted, match="exited with signal SIGSEGV"):
            service.complete_all([request("only")])
        service.close()


def test_install_check_fails_in_one_line_naming_the_runtime_and_the_log(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``make install`` ends with ``doctor --only llm``: a server that dies on its first
    completion fails it with one line naming llama-cpp-python's version and the log."""
    from sae_interp import doctor

    monkeypatch.setattr(local, "LocalLlamaServer", lambda **kw: server(die_at=1))
    assert doctor.main(["--only", "llm", "--llm-timeout-s", "30"]) == 1
    out = capsys.readouterr().out.splitlines()
    (fail,) = [line for line in out if line.startswith("FAIL")]
    assert "offline LLM" in fail and "exited with signal SIGSEGV; log: " in fail
    assert f"(llama-cpp-python {local.runtime_version()})" in fail
    assert out[-1] == "0 of 1 checks passed; failed: offline LLM"


def test_logprob_requests_go_to_a_second_server_started_when_the_first_comes() -> None:
    """Generation runs on a server without per-token logits (faster prompts); the first
    request for log-probabilities starts a second server that keeps them, and every such
    request goes there."""
    started: list[bool] = []  # the logits_all of each server started, in order

    def recording(*args: Any) -> list[str]:  # ServerCommand's arguments, logits_all last
        started.append(args[-1])
        return stand_in(None)(*args)

    def serve(logits_all: bool) -> tuple[OpenAICompatibleBackend, LocalLlamaServer]:
        srv = LocalLlamaServer(
            command=recording, needs_runtime=False, startup_timeout_s=60, logits_all=logits_all
        ).start()
        servers.append(srv)
        return OpenAICompatibleBackend(srv.alias, srv.base_url, "UNSET_KEY_ENV", 10.0), srv

    servers: list[LocalLlamaServer] = []
    try:
        backend = LocalServerBackend(*serve(False), logprob_server=lambda: serve(True))
        service = LLMService(backend, concurrency=2, max_retries=0)
        plain = service.complete_all([request(f"q{i}") for i in range(3)])
        assert all(not isinstance(x, Exception) for x in plain)
        assert started == [False] and backend.logprob_server is None
        scoring = request("score me").model_copy(update={"top_logprobs": 5})
        assert not isinstance(service.complete_all([scoring])[0], Exception)
        assert started == [False, True] and backend.logprob_server is servers[1]
        # the second server answers the log-probability requests: once it is gone, they
        # fail with its pid
        pid = servers[1].pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        with pytest.raises(LLMRunAborted, match=f"pid {pid}"):
            service.complete_all([scoring.model_copy(update={"max_tokens": 9})])
        service.close()
    finally:
        for srv in servers:
            srv.stop()
