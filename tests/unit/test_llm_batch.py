"""Batch mode against the loopback Batch API: request files and their limits, submission
and collection into the response cache, expired and failed lines (resubmitted once, or sent
through the ordinary client, and counted), a batched eval equal to the synchronous run with
the same answers, a command killed right after submitting, and offline files for ``vllm
run-batch``."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    TINY_SAMPLING,
    Judge,
    autointerp_argv,
    autointerp_child,
    run_autointerp_command,
)

from sae_interp.llm import LLMRequest, LLMService, OpenAICompatibleBackend
from sae_interp.llm.batch.lines import read_outcomes, request_lines, split_lines
from sae_interp.llm.batch.run import BatchRun, BatchSubmitted, run_in_batches
from sae_interp.llm.cache import ResponseCache, response_cache_path
from sae_interp.llm.errors import FailureKind, LLMError
from sae_interp.llm.openai_backend import request_body
from sae_interp.llm.pricing import register_price
from sae_interp.llm.report import BATCH_FIELDS
from sae_interp.llm.settings import LLMSettings
from sae_interp.testing import TINY_MODEL_SPEC, make_tiny_sae
from sae_interp.testing.fake_batch_api import BatchPlan, FakeBatchAPI, script_answerer


def echo(request: LLMRequest) -> str:
    return "answer to " + request.messages[-1].content


QUESTIONS = [LLMRequest.chat(None, f"question {i}", max_tokens=8) for i in range(6)]


def settings(api: FakeBatchAPI, **kw: Any) -> LLMSettings:
    values = {"base_url": api.base_url, "model": "batch-judge", "batch": True, "batch_poll_s": 0.01,
              "batch_wait": True}  # fmt: skip
    return LLMSettings(**(values | kw))


def ask(batch: BatchRun, s: LLMSettings) -> list[Any]:
    """One pass: the questions through a service that defers to ``batch``."""
    backend = OpenAICompatibleBackend(s.model or "", s.base_url, identity=s.identity())
    cache = ResponseCache(response_cache_path(s.identity()))
    service = LLMService(backend, cache=cache, defer=batch.defer, max_retries=0)
    try:
        return service.complete_all(QUESTIONS)
    finally:
        service.close()
        cache.close()


def passes(batch: BatchRun, s: LLMSettings, n: int = 10) -> list[list[Any]]:
    """Passes until one defers nothing, collecting and submitting between them."""
    answers = []
    for _ in range(n):
        batch.collect()
        batch.pending.clear()
        answers.append(ask(batch, s))
        if not batch.pending:
            return answers
        batch.submit()
    raise AssertionError("never finished")


# ---- request and output lines --------------------------------------------------------------


def test_request_lines_carry_the_cache_key_and_the_clients_body() -> None:
    lines = request_lines("m", {"k1": QUESTIONS[0], "k2": QUESTIONS[1]})
    (endpoint,) = lines
    first = json.loads(lines[endpoint][0])
    assert first["custom_id"] == "k1" and first["method"] == "POST"
    assert (first["url"], first["body"]) == request_body("m", QUESTIONS[0])
    assert endpoint == "/v1/chat/completions"
    completions = request_lines("m", {"k": LLMRequest(messages=(), prompt="x", echo_logprobs=True)})
    assert list(completions) == ["/v1/completions"]


def test_request_files_split_at_the_line_and_byte_limits() -> None:
    lines = [b"x" * 10 + b"\n"] * 5
    assert [len(c) for c in split_lines(lines, max_lines=2)] == [2, 2, 1]
    assert [len(c) for c in split_lines(lines, max_bytes=25)] == [2, 2, 1]
    assert [len(c) for c in split_lines([b"y" * 100], max_bytes=25)] == [1]  # a long line alone


def test_output_and_error_lines_are_read_by_custom_id() -> None:
    ok = script_answerer(echo)("/v1/chat/completions", request_body("m", QUESTIONS[0])[1])
    text = "\n".join(
        json.dumps(line)
        for line in [
            {"custom_id": "a", "response": {"status_code": 200, "body": ok}, "error": None},
            {"custom_id": "b", "response": {"status_code": 500, "body": {"error": {"message": "boom"}}}},
            {"custom_id": "c", "response": None, "error": {"code": "batch_expired", "message": "late"}},
        ]
    )  # fmt: skip
    a, b, c = read_outcomes("/v1/chat/completions", text)
    assert a.key == "a" and a.response is not None and a.response.text == "answer to question 0"
    assert b.response is None and "boom" in (b.error or "") and "500" in (b.error or "")
    assert c.response is None and c.code == "batch_expired"


# ---- submission and collection -------------------------------------------------------------


def test_a_batch_fills_the_cache_at_batch_prices(tmp_path: Path, isolated_cache: Path) -> None:
    register_price("batch-judge", 1.0, 2.0)
    with FakeBatchAPI(echo) as api:
        s = settings(api, batch_max_lines=4)
        batch = BatchRun(s.batch_options(), tmp_path, sleep=lambda s: None)
        first, second = passes(batch, s)
    assert all(isinstance(a, LLMError) and a.kind is FailureKind.batch_pending for a in first)
    assert [a.text for a in second] == [f"answer to question {i}" for i in range(6)]
    assert all(a.cached for a in second) and api.sync_requests == 0
    assert len(api.created) == 2  # 6 requests at 4 lines per file
    totals = batch.manifest.totals
    assert totals.calls == 6 == api.lines_answered
    expected = (totals.prompt_tokens * 0.5 + totals.completion_tokens * 1.0) / 1e6  # half price
    assert totals.cost_usd == pytest.approx(expected) and totals.cost_usd > 0
    assert set(batch.summary()) == set(BATCH_FIELDS)
    assert batch.summary()["batch_price_input_per_mtok"] == 0.5


def test_an_expired_batch_resubmits_only_its_unfinished_lines_once(
    tmp_path: Path, isolated_cache: Path
) -> None:
    with FakeBatchAPI(echo, plans=[BatchPlan(end="expired", answered=3)]) as api:
        s = settings(api)
        batch = BatchRun(s.batch_options(), tmp_path, sleep=lambda s: None)
        *_, last = passes(batch, s)
        second = api.batches[api.created[1]]
    assert [a.text for a in last] == [f"answer to question {i}" for i in range(6)]
    assert len(api.created) == 2 and second["request_counts"]["total"] == 3
    totals = batch.manifest.totals
    assert (totals.expired_lines, totals.failed_lines, totals.resubmitted) == (3, 3, 3)
    assert (totals.calls, totals.given_up, totals.fell_back) == (6, 0, 0)
    assert api.lines_answered == 6  # each line answered once


def test_failed_lines_fall_back_to_the_ordinary_client(
    tmp_path: Path, isolated_cache: Path
) -> None:
    failing = BatchPlan(fail=lambda i, key: i % 2 == 0)
    with FakeBatchAPI(echo, plans=[failing]) as api:
        s = settings(api, batch_fallback=True)
        batch = BatchRun(s.batch_options(), tmp_path, sleep=lambda s: None)
        *_, last = passes(batch, s)
    assert [a.text for a in last] == [f"answer to question {i}" for i in range(6)]
    assert len(api.created) == 1 and api.sync_requests == 3
    totals = batch.manifest.totals
    assert (totals.failed_lines, totals.fell_back, totals.resubmitted) == (3, 3, 0)


def test_a_line_that_fails_twice_is_given_up_and_counted(
    tmp_path: Path, isolated_cache: Path
) -> None:
    always = BatchPlan(fail=lambda i, key: i == 0)
    with FakeBatchAPI(echo, plans=[always, always]) as api:
        s = settings(api)
        batch = BatchRun(s.batch_options(), tmp_path, sleep=lambda s: None)
        *_, last = passes(batch, s)
    failed = [a for a in last if isinstance(a, LLMError)]
    assert len(failed) == 1 and failed[0].kind is FailureKind.batch_failed
    assert "internal error" in str(failed[0])
    assert batch.manifest.totals.given_up == 1 and len(api.created) == 2


def test_a_batch_that_fails_validation_is_sent_again(tmp_path: Path, isolated_cache: Path) -> None:
    with FakeBatchAPI(echo, plans=[BatchPlan(end="failed")]) as api:
        s = settings(api)
        batch = BatchRun(s.batch_options(), tmp_path, sleep=lambda s: None)
        *_, last = passes(batch, s)
    assert [a.text for a in last] == [f"answer to question {i}" for i in range(6)]
    assert batch.manifest.totals.failed_lines == 6 and len(api.created) == 2


def test_a_cancelled_batch_is_collected_and_its_lines_sent_again(
    tmp_path: Path, isolated_cache: Path
) -> None:
    with FakeBatchAPI(echo, plans=[BatchPlan(looks_in_progress=99)]) as api:
        s = settings(api)
        batch = BatchRun(s.batch_options(), tmp_path, sleep=lambda s: None)
        assert all(isinstance(a, LLMError) for a in ask(batch, s))
        batch.submit()
        (entry,) = batch.manifest.batches
        batch.transport.cancel(entry)  # type: ignore[attr-defined]
        assert entry.status == "cancelling"
        *_, last = passes(batch, s)
    assert [a.text for a in last] == [f"answer to question {i}" for i in range(6)]
    assert batch.manifest.batches[0].failed == 6 and len(api.created) == 2
    assert json.loads(batch.path.read_text())["batches"][0]["status"] == "collected"


def test_without_waiting_the_command_stops_and_a_rerun_only_polls(
    tmp_path: Path, isolated_cache: Path
) -> None:
    with FakeBatchAPI(echo, plans=[BatchPlan(looks_in_progress=3)]) as api:
        s = settings(api, batch_wait=False)
        calls = []

        def one_pass() -> list[Any]:
            calls.append(1)
            from sae_interp.llm.batch.run import active_batch

            batch = active_batch()
            assert batch is not None
            return ask(batch, s)

        with pytest.raises(BatchSubmitted, match="same command again"):
            run_in_batches(s.batch_options(), tmp_path, one_pass)
        for _ in range(2):  # in_progress, looked at twice more: still running, no new batch
            with pytest.raises(BatchSubmitted):
                run_in_batches(s.batch_options(), tmp_path, one_pass)
        assert len(api.created) == 1 and len(calls) == 1  # no pass while batches run
        answers = run_in_batches(s.batch_options(), tmp_path, one_pass)
    assert [a.text for a in answers] == [f"answer to question {i}" for i in range(6)]
    assert len(api.created) == 1 and len(calls) == 2


# ---- settings ------------------------------------------------------------------------------


def test_batch_mode_needs_an_endpoint_and_the_cache() -> None:
    with pytest.raises(ValueError, match="--llm-batch needs an OpenAI-compatible endpoint"):
        LLMSettings(batch=True)
    with pytest.raises(ValueError, match="needs the response cache"):
        LLMSettings(model="m", batch=True, cache=False)
    with pytest.raises(ValueError, match="--llm-batch-files needs"):
        LLMSettings(batch_files=Path("x"))
    from sae_interp.evals.agentic import AgenticEvalConfig

    with pytest.raises(ValueError, match="agentic eval cannot run in batch mode"):
        AgenticEvalConfig(llm={"model": "m", "batch": True})
    from sae_interp.evals.all import AllEvalConfig

    with pytest.raises(ValueError, match="intervention eval cannot run in batch mode"):
        AllEvalConfig(evals=["autointerp", "intervention"], llm={"model": "m", "batch": True})
    AllEvalConfig(evals=["autointerp", "sparse_probing"], llm={"model": "m", "batch": True})


# ---- evals ---------------------------------------------------------------------------------


def eval_values(out: Path, corpus: Path, api: FakeBatchAPI, **llm: Any) -> dict[str, Any]:
    endpoint = {"base_url": api.base_url, "model": "batch-judge", "batch_poll_s": 0.01} | llm
    return {
        "model": TINY_MODEL_SPEC, "saes": ["tiny"], "corpus": str(corpus), "n_tokens": 2048,
        "ctx_len": 33, "device": "cpu", "output_dir": out, "n_latents": 4,
        "sampling": TINY_SAMPLING, "llm": endpoint,
    }  # fmt: skip


def scores(output: Any) -> list[Any]:
    return [
        (d.latent, d.status, d.explanation, d.metrics, d.control_metrics, d.control_explanation_of)
        for d in output.eval_result_details
    ]


@pytest.mark.parametrize("name", ["autointerp", "fuzzing"])
def test_a_batched_eval_equals_the_synchronous_run(
    name: str, tmp_path: Path, corpus_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sae_interp.evals import get_eval
    from sae_interp.framework.runner import run_per_sae

    definition = get_eval(name)
    sae = {"tiny": make_tiny_sae(d_sae=32, k=4)}
    with FakeBatchAPI(Judge().reply) as api:
        monkeypatch.setenv("SAE_INTERP_CACHE", str(tmp_path / "sync_cache"))
        values = eval_values(tmp_path / "sync", corpus_file, api)
        (sync,) = run_per_sae(definition, definition.config_cls.model_validate(values), saes=sae)
        n_sync = api.sync_requests
        monkeypatch.setenv("SAE_INTERP_CACHE", str(tmp_path / "batch_cache"))
        values = eval_values(tmp_path / "batch", corpus_file, api, batch=True, batch_wait=True)
        (batched,) = run_per_sae(definition, definition.config_cls.model_validate(values), saes=sae)
    assert n_sync > 0 and api.sync_requests == n_sync  # the batched run sent nothing directly
    assert len(api.created) == 2  # explanations, then scoring (with the control)
    assert scores(batched) == scores(sync)
    assert all(d.status == "ok" for d in batched.eval_result_details)
    usage = batched.eval_result_metrics.llm_usage
    assert usage["batched"] is True and usage["batch_calls"] == api.lines_answered == n_sync
    assert sync.eval_result_metrics.llm_usage["batched"] is False


def _argv(out: Path, sae: Path, corpus: Path, base_url: str, *extra: str) -> list[str]:
    return autointerp_argv(out, sae, corpus, base_url, "--llm-batch-poll-s", "0.01", *extra)


def _result(out: Path) -> dict[str, Any]:
    (path,) = (out / "autointerp").glob("*.json")
    return json.loads(path.read_text())


def test_killed_right_after_submitting_the_rerun_submits_nothing_twice(
    tmp_path: Path, corpus_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAE_INTERP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    sae = make_tiny_sae(d_sae=32, k=4).save(tmp_path / "sae")
    victim: list[Any] = []

    def kill_the_client(batch: dict[str, Any]) -> None:
        if len(victim) == 1:  # the first batch: created, and the client never hears of it
            os.kill(victim[0].pid, signal.SIGKILL)  # the test's thread reaps it

    with FakeBatchAPI(Judge().reply, on_create=kill_the_client) as api:
        args = _argv(tmp_path / "out", sae, corpus_file, api.base_url, "--llm-batch")
        child = multiprocessing.get_context("spawn").Process(target=autointerp_child, args=(args,))
        victim.append(child)
        child.start()
        child.join(120)
        assert child.exitcode == -signal.SIGKILL and len(api.created) == 1
        victim.append(None)  # no more kills
        manifest = json.loads(next((tmp_path / "out").rglob("manifest.json")).read_text())
        assert manifest["batches"][0]["batch_id"] is None  # the stop came before it was recorded
        assert run_autointerp_command([*args, "--llm-batch-wait"]) == 0
        inputs = [api.batches[b]["input_file_id"] for b in api.created]
    assert len(api.created) == 2 and len(set(inputs)) == 2  # stage 1 once, then stage 2
    result = _result(tmp_path / "out")
    assert [d["status"] for d in result["eval_result_details"]] == ["ok"] * 4
    assert result["eval_result_metrics"]["llm_usage"]["batch_calls"] == api.lines_answered > 0
    assert api.sync_requests == 0


def answer_request_file(requests: Path, output: Path, script: Any) -> None:
    """What ``vllm run-batch -i requests -o output`` writes: one output line per request."""
    answer = script_answerer(script)
    with output.open("w") as f:
        for raw in requests.read_text().splitlines():
            line = json.loads(raw)
            body = answer(line["url"], line["body"])
            response = {"status_code": 200, "request_id": "r", "body": body}
            f.write(json.dumps({"id": "x", "custom_id": line["custom_id"], "response": response,
                                "error": None}) + "\n")  # fmt: skip


def test_offline_batch_files_are_written_read_back_and_match_the_api(
    tmp_path: Path, corpus_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("SAE_INTERP_CACHE", str(tmp_path / "cache"))
    sae = make_tiny_sae(d_sae=32, k=4).save(tmp_path / "sae")
    judge = Judge()
    files = tmp_path / "vllm"
    args = _argv(tmp_path / "out", sae, corpus_file, "http://127.0.0.1:9/v1",
                 "--llm-batch-files", str(files))  # fmt: skip
    for stage in (1, 2):
        assert run_autointerp_command(args) == 0
        assert "not answered yet" in capsys.readouterr().out
        (requests,) = files.glob(f"stage{stage}-*.requests.jsonl")
        answer_request_file(
            requests, files / requests.name.replace("requests", "output"), judge.reply
        )
    assert run_autointerp_command(args) == 0
    assert "result:" in capsys.readouterr().out
    offline = _result(tmp_path / "out")
    monkeypatch.setenv("SAE_INTERP_CACHE", str(tmp_path / "api_cache"))
    with FakeBatchAPI(judge.reply) as api:
        api_args = _argv(tmp_path / "api", sae, corpus_file, api.base_url, "--llm-batch",
                         "--llm-batch-wait")  # fmt: skip
        assert run_autointerp_command(api_args) == 0
    online = _result(tmp_path / "api")
    assert offline["eval_result_details"] == online["eval_result_details"]
    assert [d["status"] for d in offline["eval_result_details"]] == ["ok"] * 4


def without_usage(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_usage(v) for k, v in value.items() if k != "llm_usage"}
    return value


def test_evals_all_in_batches_explains_once_and_equals_the_synchronous_run(
    tmp_path: Path, corpus_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sae_interp.evals.all import AllEvalConfig, run_eval

    sae = {"tiny": make_tiny_sae(d_sae=32, k=4)}
    both = {"evals": ["autointerp", "fuzzing"]}
    with FakeBatchAPI(Judge().reply) as api:
        monkeypatch.setenv("SAE_INTERP_CACHE", str(tmp_path / "sync_cache"))
        values = eval_values(tmp_path / "sync", corpus_file, api) | both
        (sync,) = run_eval(AllEvalConfig.model_validate(values), saes=sae)
        n_sync = api.sync_requests
        monkeypatch.setenv("SAE_INTERP_CACHE", str(tmp_path / "batch_cache"))
        values = eval_values(tmp_path / "batch", corpus_file, api, batch=True, batch_wait=True)
        (batched,) = run_eval(AllEvalConfig.model_validate(values | both), saes=sae)
    assert len(api.created) == 2 and api.lines_answered == n_sync  # one explanation per latent
    assert without_usage(batched.eval_result_metrics.model_dump()) == without_usage(
        sync.eval_result_metrics.model_dump()
    )
    assert batched.eval_result_metrics.llm_usage["batch_calls"] == n_sync


def test_a_dry_run_in_batch_mode_is_priced_at_batch_prices(
    tmp_path: Path, corpus_file: Path, isolated_cache: Path
) -> None:
    from sae_interp.evals import get_eval
    from sae_interp.framework.runner import plan_per_sae

    register_price("batch-judge", 1.0, 2.0)
    definition = get_eval("autointerp")
    sae = {"tiny": make_tiny_sae(d_sae=32, k=4)}
    with FakeBatchAPI(echo) as api:
        plans = {
            mode: plan_per_sae(
                definition,
                definition.config_cls.model_validate(
                    eval_values(tmp_path, corpus_file, api, batch=mode) | {"dry_run": True}
                ),
                saes=sae,
            )[0]
            for mode in (False, True)
        }
    assert plans[True].calls == plans[False].calls > 0
    assert plans[True].estimated_cost_usd == pytest.approx(plans[False].estimated_cost_usd / 2)
    assert "batch prices" in plans[True].notes and api.created == []
