"""Autointerp end to end on the embedded default: Gemma 3 270M, the shipped SAE and the
offline LLM (Qwen2.5-Coder-1.5B via a loopback llama.cpp server), on two latents. The
response cache is off so the LLM really answers every run (about two minutes on 2 cores)."""

from pathlib import Path

from sae_interp.evals.autointerp import AutoInterpEvalConfig, run_eval


def test_autointerp_offline_two_latents(gemma, tmp_path: Path) -> None:
    cfg = AutoInterpEvalConfig.model_validate(
        {
            "saes": ["embedded"],
            "n_tokens": 32_768,
            "n_latents": 2,
            "device": "cpu",
            "output_dir": str(tmp_path),
            "sampling": {
                "window_len": 16,
                "n_train": 8,
                "n_test": 5,
                "n_negatives": 5,
                "min_activating": 10,
            },
            "explainer": {"max_tokens": 80},
            "llm": {"concurrency": 1, "cache": False},
        }
    )
    (out,) = run_eval(cfg, model=gemma)
    m = out.eval_result_metrics
    assert m.n_requested == 2 and m.n_too_rare == 0 and m.n_dead == 0
    assert (
        m.llm_usage["calls"] >= 4
        and m.llm_usage["prompt_tokens"] > 0
        and m.llm_usage["cached"] == 0
    )
    assert m.detection is not None and m.detection.n_latents + m.n_failed_explanations == 2
    for detail in out.eval_result_details:
        if detail.status == "explanation_failed":
            assert detail.explanation_error
            continue
        assert detail.explanation and detail.outcome is not None
        assert 5 <= len(detail.outcome.examples) <= 10  # a dense latent may have no free negatives
        for error, answer in zip(
            detail.outcome.batch_errors, detail.outcome.raw_answers, strict=True
        ):
            assert (error is None) == (answer is not None and detail.metrics is not None)
        scored = [p for p in detail.outcome.predictions if p is not None]
        probs = [p for p in detail.outcome.probabilities if p is not None]
        assert len(probs) == len(scored)  # llama.cpp returns log-probs for every label
