"""Batch mode with the real offline judge: autointerp in SAEBench mode on one latent of
the embedded default, its requests sent as batches to the loopback Batch API, whose lines
the local llama.cpp server answers (two calls: the explanation, then the scoring)."""

from pathlib import Path

import pytest

from sae_interp.evals.autointerp import AutoInterpEvalConfig, run_eval
from sae_interp.llm.local import LocalLlamaServer
from sae_interp.testing.fake_batch_api import FakeBatchAPI, forward_to


def test_autointerp_in_batches_answered_by_the_offline_judge(
    gemma, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAE_INTERP_CACHE", str(tmp_path / "cache"))  # every line answered
    with LocalLlamaServer() as server, FakeBatchAPI(answer=forward_to(server.base_url)) as api:
        cfg = AutoInterpEvalConfig.model_validate(
            {
                "saes": ["embedded"],
                "n_tokens": 16_384,
                "n_latents": 1,
                "device": "cpu",
                "output_dir": str(tmp_path / "out"),
                "sampling": {
                    "window_len": 16,
                    "n_train": 8,
                    "n_test": 5,
                    "n_negatives": 5,
                    "min_activating": 10,
                },
                "detection": {"mode": "saebench"},
                "shuffled_control": False,
                "explainer": {"max_tokens": 80},
                "llm": {
                    "base_url": api.base_url,
                    "model": server.alias,
                    "batch": True,
                    "batch_wait": True,
                    "batch_poll_s": 0.05,
                },
            }
        )
        (out,) = run_eval(cfg, model=gemma)
    m = out.eval_result_metrics
    assert len(api.created) == 2 and api.sync_requests == 0  # explanations, then scoring
    assert api.lines_answered == 2 == m.llm_usage["batch_calls"]
    assert m.llm_usage["batched"] is True and m.llm_usage["batch_prompt_tokens"] > 0
    # the last pass reads the scoring answer from the cache (the explanation, stored by the
    # pass before, from the explanation store): nothing is sent outside the batches
    assert m.llm_usage["cached"] == 1 and m.llm_usage["calls"] == 0
    for detail in out.eval_result_details:
        assert detail.status == "ok" and detail.explanation
        assert detail.metrics is not None
