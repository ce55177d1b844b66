"""``sae-interp doctor`` on the embedded default: every check passes on this install, and the
real llama.cpp server, killed mid-run, is reported as a crash with its pid, signal and log."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from sae_interp.cli import main
from sae_interp.llm import LLMRunAborted, LLMService
from sae_interp.llm.local import LocalLlamaServer, LocalServerBackend, runtime_version
from sae_interp.llm.openai_backend import OpenAICompatibleBackend
from sae_interp.llm.types import ChatMessage, LLMRequest


def test_doctor_passes_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor"]) == 0
    lines = capsys.readouterr().out.splitlines()
    checks = [line for line in lines if line.startswith(("PASS", "FAIL"))]
    names = [line.split()[1] for line in checks]
    for name in ("torch", "llama-cpp-python", "device", "model", "sae", "corpus", "offline"):
        assert name in names
    assert all(line.startswith("PASS") for line in checks), checks
    assert f"llama-cpp-python {runtime_version()} answered" in "\n".join(checks)
    assert lines[-1] == f"{len(checks)} of {len(checks)} checks passed"


def test_a_bad_check_name_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["doctor", "--only", "llm,gpus"])
    assert info.value.code == 2
    assert "--only: unknown check gpus" in capsys.readouterr().err


def test_the_real_server_killed_mid_run_is_reported_as_a_crash() -> None:
    request = LLMRequest(
        messages=(ChatMessage(role="user", content="Count from one to twenty."),),
        max_tokens=64,
    )
    with LocalLlamaServer() as server:
        pid, log = server.pid, server.log_path
        assert pid is not None and isinstance(log, Path) and log.exists()
        client = OpenAICompatibleBackend(server.alias, server.base_url, "UNSET_KEY_ENV", 120.0)
        service = LLMService(LocalServerBackend(client, server), concurrency=1, max_retries=5)
        (first,) = service.complete_all([request])
        assert first.text  # type: ignore[union-attr]
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(LLMRunAborted) as info:
            service.complete_all([request])
        service.close()
    assert str(info.value).startswith(
        f"the local LLM server (pid {pid}) exited with signal SIGKILL; log: {log}"
    )
    assert service.report.retries == 0 and service.report.failed_by_kind["server_exited"] == 1
