"""An explanation eval on the tiny model against the fault-injecting loopback server: every
latent scored despite 20% faults, failures counted by kind, permanent errors stop the run
early, and no file or log line of a run contains the API key."""

import contextlib
import logging
from pathlib import Path

import pytest
from helpers import tiny_eval_values

from sae_interp.base.errors import AllLLMWorkFailedError
from sae_interp.evals.autointerp import AutoInterpEvalConfig, AutoInterpEvalOutput, run_eval
from sae_interp.llm import LLMRunAborted
from sae_interp.testing import TINY_MODEL_SPEC, make_tiny_sae
from sae_interp.testing.fault_server import FaultServer, retries_match

KEY = "sk-loopback-TOPSECRET-0123456789"


def _config(tmp_path: Path, corpus: Path, server: FaultServer, **llm) -> AutoInterpEvalConfig:
    endpoint = {
        "base_url": server.base_url,
        "model": "loopback-judge",
        "api_key_env": "LOOPBACK_KEY",
        "timeout_s": 1.0,
        "concurrency": 2,  # two groups of latents: the overlapped queue
    }
    return AutoInterpEvalConfig.model_validate(tiny_eval_values(tmp_path, corpus, endpoint | llm))


def _summary(out):  # type: ignore[no-untyped-def]
    return [
        (d.latent, d.status, d.explanation, d.metrics, d.control_metrics)
        for d in out.eval_result_details
    ]


def test_twenty_percent_faults_lose_no_latent(
    tmp_path: Path, corpus_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOPBACK_KEY", KEY)
    sae = make_tiny_sae(d_sae=32, k=4)
    with FaultServer(fault_rate=0.0) as clean:
        (reference,) = run_eval(_config(tmp_path / "clean", corpus_file, clean), saes={"tiny": sae})
    with FaultServer(fault_rate=0.2, seed=1, hang_s=2.0) as server:
        (out,) = run_eval(_config(tmp_path / "faulty", corpus_file, server), saes={"tiny": sae})
    m = out.eval_result_metrics
    assert m.n_requested == 4 and m.n_failed_explanations == 0 and m.detection.n_latents == 4
    assert _summary(out) == _summary(reference)  # same answers, same scores, nothing lost
    assert all(e is None for d in out.eval_result_details for e in d.outcome.batch_errors)
    usage = m.llm_usage
    retried = {k.removeprefix("retries_"): v for k, v in usage.items() if k.startswith("retries_")}
    assert sum(retried.values()) == usage["retries"] >= sum(server.injected.values()) > 0
    assert usage["failed"] == 0 and retries_match(retried, server.injected)
    assert usage["prompt_tokens_per_latent"] > 0
    assert 0 < usage["cached_prompt_fraction"] < 1  # demos are a shared prefix


def test_a_bad_key_stops_the_run_early(
    tmp_path: Path, corpus_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOPBACK_KEY", KEY)
    with FaultServer(mode="auth") as server, pytest.raises(LLMRunAborted, match="auth") as info:
        run_eval(
            _config(tmp_path, corpus_file, server), saes={"tiny": make_tiny_sae(d_sae=32, k=4)}
        )
    assert server.requests <= 3 + 2  # the first few (at most one wave in flight), not all
    assert KEY not in str(info.value) and "***" in str(info.value)


def test_no_file_or_log_line_contains_the_key(
    tmp_path: Path,
    corpus_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    isolated_cache: Path,
) -> None:
    monkeypatch.setenv("LOOPBACK_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    # a latent with a failed call is unfinished: the result file is written, then the run
    # with no latent finished says so
    with (
        FaultServer(fault_rate=0.3, seed=0, faults=("echo_key",)) as server,
        contextlib.suppress(AllLLMWorkFailedError),
    ):
        run_eval(
            _config(tmp_path, corpus_file, server), saes={"tiny": make_tiny_sae(d_sae=32, k=4)}
        )
    (result,) = (tmp_path / "out" / "autointerp").glob("*.json")
    out = AutoInterpEvalOutput.load(result)
    assert (
        server.injected["echo_key"] > 0
        and out.eval_result_metrics.llm_usage["failed_bad_request"] > 0
        and out.failures.get("bad_request", 0) > 0
    )
    written = [p for root in (tmp_path, isolated_cache) for p in root.rglob("*") if p.is_file()]
    assert len(written) >= 3
    leaked = [p for p in written if KEY.encode() in p.read_bytes()]
    assert leaked == []
    stored = "".join(p.read_text(errors="ignore") for p in written)
    assert "from key ***" in stored  # the error text is kept, with the key masked
    assert not [r for r in caplog.records if KEY in r.getMessage()]


def test_a_bad_key_exits_non_zero_with_one_message(
    tmp_path: Path,
    corpus_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from sae_interp.cli import main

    monkeypatch.setenv("LOOPBACK_KEY", KEY)
    with FaultServer(mode="auth") as server:
        argv = ["autointerp", "--model", TINY_MODEL_SPEC, "--saes"]
        argv += ["identity:blocks.0.hook_resid_post", "--corpus", str(corpus_file)]
        argv += ["--n-tokens", "1024", "--ctx-len", "33", "--device", "cpu", "--n-latents", "2"]
        argv += ["--output-dir", str(tmp_path / "o"), "--sampling-window-len", "8"]
        argv += ["--sampling-min-activating", "2", "--llm-base-url", server.base_url]
        argv += ["--llm-model", "judge", "--llm-api-key-env", "LOOPBACK_KEY"]
        assert main(argv) != 0
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "auth" in errors[0] and "--llm-api-key-env" in errors[0]
    assert not [r for r in caplog.records if "HTTP Request" in r.getMessage()]  # quiet
    assert not any(KEY in r.getMessage() for r in caplog.records)
