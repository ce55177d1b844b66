"""Failures are counted, never stored: a rerun after the endpoint is fixed retries exactly
the failed work (the response cache answers everything else), ``--force`` recomputes
explanations unless ``--reuse-explanations``, and a run with nothing done exits non-zero."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import tiny_eval_values

from sae_interp.base.errors import AllLLMWorkFailedError
from sae_interp.evals.autointerp import AutoInterpEvalConfig, run_eval
from sae_interp.explainers import one_shot_prompts
from sae_interp.llm import LLMError, ScriptedBackend
from sae_interp.llm.errors import FailureKind
from sae_interp.llm.settings import LLM_BACKENDS
from sae_interp.llm.types import LLMRequest
from sae_interp.testing import TINY_MODEL_SPEC, make_tiny_sae

SAE = make_tiny_sae(d_sae=32, k=4)


def is_explanation(request: LLMRequest) -> bool:
    return request.messages[0].content == one_shot_prompts.SYSTEM


class Endpoint:
    """Explains every latent as its top token and calls every excerpt active, except for the
    requests ``broken`` picks, which fail as a refused connection would."""

    def __init__(self) -> None:
        self.broken: Callable[[LLMRequest, int], bool] = lambda request, n: False
        self.garbage = False  # answer explanations with text that holds none
        self.backend = ScriptedBackend(self.reply)
        self.failed: list[LLMRequest] = []

    def reply(self, request: LLMRequest) -> str | BaseException:
        if self.broken(request, len(self.backend.calls)):
            self.failed.append(request)
            return LLMError("connection refused", FailureKind.connection)
        last = request.messages[-1].content
        if is_explanation(request):
            if self.garbage:
                return "I cannot tell."
            top = last.split('"')[1] if '"' in last else "something"
            return f"It fires on {top}.\n[EXPLANATION]: the token {top}"
        n = sum(line.startswith("Excerpt") for line in last.splitlines())
        return "[" + ", ".join(["1"] * n) + "]"

    def reset(self) -> None:
        self.backend.calls.clear()
        self.failed.clear()
        self.broken = lambda request, n: False
        self.garbage = False


@pytest.fixture
def endpoint() -> Endpoint:
    endpoint = Endpoint()
    LLM_BACKENDS.register("failing-endpoint", lambda s, stack: endpoint.backend, overwrite=True)
    return endpoint


def config(tmp_path: Path, corpus: Path, cache: bool = True, **kw: object) -> AutoInterpEvalConfig:
    llm = {"backend": "failing-endpoint", "cache": cache, "concurrency": 2}
    values = tiny_eval_values(tmp_path, corpus, llm)
    return AutoInterpEvalConfig.model_validate(values | kw)


def test_failed_explanations_are_counted_not_stored_and_retried(
    endpoint: Endpoint, tmp_path: Path, corpus_file: Path
) -> None:
    explained: list[int] = []

    def first_two_explanations(request: LLMRequest, n: int) -> bool:
        if not is_explanation(request):
            return False
        explained.append(n)
        return len(explained) <= 2

    endpoint.broken = first_two_explanations
    cfg = config(tmp_path, corpus_file)
    (first,) = run_eval(cfg, saes={"tiny": SAE})
    m = first.eval_result_metrics
    assert m.n_failed_explanations == 2 and m.detection.n_latents == 2
    assert first.failures == {"connection": 2} and m.failures == {"connection": 2}
    failed = [d for d in first.eval_result_details if d.status == "explanation_failed"]
    assert len(failed) == 2 and all(d.error_kind == "connection" for d in failed)
    (store,) = (tmp_path / "out" / "explanations").rglob("*.jsonl")
    assert len(store.read_text().splitlines()) == 2  # only the successes
    (latents,) = (tmp_path / "out" / "autointerp").rglob("latents_*.jsonl")
    assert len(latents.read_text().splitlines()) == 2  # the failed latents are unfinished
    answered = [r for r in endpoint.backend.calls if r not in endpoint.failed]
    failed_requests = list(endpoint.failed)

    endpoint.reset()  # the endpoint is fixed; the stored result records failures: rerun
    (second,) = run_eval(cfg, saes={"tiny": SAE})
    resent = endpoint.backend.calls
    assert [r for r in resent if is_explanation(r)] == failed_requests
    assert not set(resent) & set(answered)  # nothing that was answered is asked again
    assert second.failures == {} and second.eval_result_metrics.detection.n_latents == 4

    endpoint.reset()
    (third,) = run_eval(cfg, saes={"tiny": SAE})  # complete now: read back, nothing sent
    assert endpoint.backend.calls == [] and third.eval_id == second.eval_id


def test_failed_scoring_is_retried_alone(
    endpoint: Endpoint, tmp_path: Path, corpus_file: Path
) -> None:
    scored: list[int] = []

    def first_scoring_call(request: LLMRequest, n: int) -> bool:
        if is_explanation(request):
            return False
        scored.append(n)
        return len(scored) == 1

    endpoint.broken = first_scoring_call
    cfg = config(tmp_path, corpus_file)
    (first,) = run_eval(cfg, saes={"tiny": SAE})
    unfinished = [d for d in first.eval_result_details if d.status == "scoring_failed"]
    assert len(unfinished) == 1 and unfinished[0].scoring_error == "connection refused"
    assert unfinished[0].metrics is None  # partial scores are not pooled
    assert first.failures == {"connection": 1}
    assert first.eval_result_metrics.n_failed_scoring == 1
    failed_requests = list(endpoint.failed)

    endpoint.reset()
    (second,) = run_eval(cfg, saes={"tiny": SAE})
    # the failed latent is scored again; the response cache answers its other requests
    assert endpoint.backend.calls == failed_requests
    assert second.failures == {} and second.eval_result_metrics.detection.n_latents == 4


def test_force_asks_for_explanations_again_unless_reuse_is_asked(
    endpoint: Endpoint, tmp_path: Path, corpus_file: Path
) -> None:
    def explanation_calls() -> int:
        return sum(is_explanation(r) for r in endpoint.backend.calls)

    run_eval(config(tmp_path, corpus_file, cache=False), saes={"tiny": SAE})
    assert explanation_calls() == 4
    endpoint.reset()
    run_eval(config(tmp_path, corpus_file, cache=False, force=True), saes={"tiny": SAE})
    assert explanation_calls() == 4
    endpoint.reset()
    reuse = config(tmp_path, corpus_file, cache=False, force=True, reuse_explanations=True)
    run_eval(reuse, saes={"tiny": SAE})
    assert explanation_calls() == 0 and len(endpoint.backend.calls) > 0  # scores recomputed


def test_garbage_answers_are_not_stored_and_a_run_with_nothing_done_fails(
    endpoint: Endpoint, tmp_path: Path, corpus_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    endpoint.garbage = True  # HTTP 200, but no explanation in any answer
    cfg = config(tmp_path, corpus_file)
    with pytest.raises(AllLLMWorkFailedError, match="no latent could be explained or scored"):
        run_eval(cfg, saes={"tiny": SAE})
    assert "left unfinished by failures (unparseable_answer: 4)" in caplog.text
    (result,) = (tmp_path / "out" / "autointerp").glob("*.json")
    assert '"unparseable_answer": 4' in result.read_text()  # the output counts them
    assert not [p for p in (tmp_path / "out").rglob("*.jsonl") if p.read_text().strip()]
    n_garbage = len(endpoint.backend.calls)

    endpoint.reset()  # fixed: nothing came from the cache, every latent is explained now
    (out,) = run_eval(cfg, saes={"tiny": SAE})
    assert sum(is_explanation(r) for r in endpoint.backend.calls) == 4 and n_garbage >= 4
    assert out.failures == {} and out.eval_result_metrics.detection.n_latents == 4


def test_cli_exit_code_when_every_llm_call_fails(
    endpoint: Endpoint,
    tmp_path: Path,
    corpus_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from sae_interp.evals.autointerp.main import DEFINITION
    from sae_interp.framework.cli import eval_main

    endpoint.broken = lambda request, n: True
    sae_dir = SAE.save(tmp_path / "sae")
    args = [
        "--model", TINY_MODEL_SPEC, "--saes", str(sae_dir), "--corpus", str(corpus_file),
        "--n-tokens", "2048", "--ctx-len", "33", "--device", "cpu",
        "--output-dir", str(tmp_path / "out"), "--n-latents", "2",
        "--sampling-window-len", "8", "--sampling-min-activating", "4",
        "--llm-backend", "failing-endpoint",
    ]  # fmt: skip
    assert eval_main(DEFINITION, args) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "every LLM call failed" in errors[0]
    assert "connection" in errors[0] and "--llm-base-url" in errors[0]
