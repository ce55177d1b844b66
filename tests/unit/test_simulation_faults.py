"""The simulator's all-at-once mode against a remote completions endpoint goes through the
eval's LLM service: at 20% injected faults no latent is lost, its calls and retries are in the
same usage report as the chat calls, and when calls fail for good (no retries allowed) their
latents are left unfinished and a rerun scores exactly those."""

from __future__ import annotations

from pathlib import Path

from helpers import TINY_SAMPLING, tiny_eval_values

from sae_interp.evals.simulation import SimulationEvalConfig, run_eval
from sae_interp.testing import make_tiny_sae
from sae_interp.testing.fault_server import FaultServer, retries_match

SAE = {"tiny": make_tiny_sae(d_sae=32, k=4)}
WINDOWS = 4 + 4  # test + negative windows per latent, one all-at-once call each


def config(
    tmp_path: Path, corpus: Path, server: FaultServer, **llm: object
) -> SimulationEvalConfig:
    endpoint = {"base_url": server.base_url, "model": "loopback-judge", "timeout_s": 1.0}
    values = tiny_eval_values(tmp_path, corpus, endpoint | {"concurrency": 2} | llm)
    sampling = TINY_SAMPLING | {"n_train": 6}
    return SimulationEvalConfig.model_validate(
        values
        | {"shuffled_control": False, "simulator": {"mode": "all_at_once"}, "sampling": sampling}
    )


def predictions(out):  # type: ignore[no-untyped-def]
    return {
        row.latent: [w.predicted for w in row.outcome.windows] if row.outcome else None
        for row in out.eval_result_details
    }


def test_twenty_percent_faults_on_all_at_once_lose_no_latent(
    tmp_path: Path, corpus_file: Path
) -> None:
    with FaultServer() as clean:
        (reference,) = run_eval(config(tmp_path / "clean", corpus_file, clean), saes=SAE)
    with FaultServer(fault_rate=0.2, seed=3, hang_s=2.0) as server:
        (out,) = run_eval(config(tmp_path / "faulty", corpus_file, server), saes=SAE)
    m = out.eval_result_metrics
    assert m.n_scored == 4 and m.simulation_modes == {"all_at_once": 4 * WINDOWS}
    assert predictions(out) == predictions(reference)  # the same answers, nothing lost
    # the vowel rule of the loopback server: every window was read, not just answered
    assert all(p is not None for windows in predictions(out).values() for p in windows)
    usage = m.llm_usage
    # explanations + all-at-once calls in one report (an unreadable answer is a paid call)
    assert usage["calls"] == 4 + 4 * WINDOWS + server.injected["garbage"]
    assert usage["failed"] == 0 and usage["prompt_tokens"] >= m.all_at_once_prompt_tokens > 0
    retried = {k.removeprefix("retries_"): v for k, v in usage.items() if k.startswith("retries_")}
    assert sum(server.injected.values()) > 0 and retries_match(retried, server.injected)


def test_failed_all_at_once_calls_leave_their_latents_for_the_rerun(
    tmp_path: Path, corpus_file: Path
) -> None:
    faults = ("server_error",)
    # no response cache, so the rerun re-sends every call of an unfinished latent
    no_retries = {"max_retries": 0, "invalid_retries": 0, "cache": False}
    with FaultServer(fault_rate=0.15, seed=5, faults=faults) as server:
        (first,) = run_eval(config(tmp_path, corpus_file, server, **no_retries), saes=SAE)
        port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
    failed = {r.latent for r in first.eval_result_details if r.status != "ok"}
    scoring_failed = {r.latent for r in first.eval_result_details if r.status == "scoring_failed"}
    assert scoring_failed and failed != {r.latent for r in first.eval_result_details}
    for row in first.eval_result_details:
        if row.status == "scoring_failed":
            assert row.error_kind == "server_error"
    assert first.eval_result_metrics.llm_usage["failed_server_error"] > 0
    # the same endpoint (its address is part of the stores' keys), now without faults
    with FaultServer(port=port) as clean:
        (again,) = run_eval(config(tmp_path, corpus_file, clean, **no_retries), saes=SAE)
        prompts = clean.requests
    assert {r.status for r in again.eval_result_details} == {"ok"}
    n_explain = len(failed - scoring_failed)  # latents whose explanation failed
    assert prompts == n_explain + len(failed) * WINDOWS  # exactly the unfinished latents


def test_a_remote_scoring_lm_is_in_the_usage_report_with_its_cost(
    tmp_path: Path, corpus_file: Path
) -> None:
    """Surprisal with the judge and a completions scoring LM on loopback: the scoring LM's
    calls, tokens and dollars (priced as gpt-4o-mini) are in the eval's llm_usage."""
    from sae_interp.evals.surprisal import SurprisalEvalConfig
    from sae_interp.evals.surprisal import run_eval as run_surprisal
    from sae_interp.llm.pricing import cost_usd
    from sae_interp.llm.types import Usage

    with FaultServer() as judge, FaultServer() as scorer:
        values = tiny_eval_values(
            tmp_path, corpus_file, {"base_url": judge.base_url, "model": "loopback-judge"}
        )
        scoring_lm = {"backend": "openai", "model": "gpt-4o-mini", "base_url": scorer.base_url}
        cfg = SurprisalEvalConfig.model_validate(
            values | {"shuffled_control": False, "scoring_lm": scoring_lm}
        )
        (out,) = run_surprisal(cfg, saes=SAE)
        scored = scorer.requests
    usage = out.eval_result_metrics.llm_usage
    assert judge.requests == 4 and scored > 0 and out.eval_result_metrics.surprisal is not None
    assert usage["calls"] == 4 + scored  # the judge's explanations and the scoring LM's calls
    # the judge ("loopback-judge") has no price, so every dollar is the scoring LM's, and at
    # most what all the run's tokens would cost at its price
    everything = Usage(
        prompt_tokens=usage["prompt_tokens"], completion_tokens=usage["completion_tokens"]
    )
    assert not usage["priced"] and 0 < usage["cost_usd"] <= cost_usd("gpt-4o-mini", everything)
