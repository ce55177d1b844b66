"""The simulation eval on the embedded default with the offline LLM, with similar-negative
windows from the shipped MiniLM embedder. Explanations come from the llama.cpp server; the
all-at-once mode's prompt log-probs are computed in-process from the same GGUF
(``sae_interp.llm.local_prompt_logprobs``: the server's echo is too slow). Two latents at
small sizes; the response cache is off. Whether the simulator predicts a latent from a
correct explanation is asserted on the planted SAE, against decoys, in
``test_known_answers_offline.py``."""

from pathlib import Path

from sae_interp.evals.simulation import SimulationEvalConfig, run_eval


def test_simulation_offline(gemma, tmp_path: Path) -> None:
    cfg = SimulationEvalConfig.model_validate(
        {
            "saes": ["embedded"],
            "n_tokens": 32_768,
            "n_latents": 2,
            "device": "cpu",
            "output_dir": str(tmp_path),
            "sampling": {
                "window_len": 12,
                "n_train": 8,
                "n_test": 2,
                "n_negatives": 2,
                "min_activating": 10,
                "negative_strategy": "similar_negative",
            },
            "explainer": {"max_tokens": 80},
            "llm": {"concurrency": 1, "cache": False},
        }
    )
    (out,) = run_eval(cfg, model=gemma)
    m = out.eval_result_metrics
    assert m.n_scored >= 1
    assert m.simulation_modes.get("all_at_once", 0) > 0 and "chat" not in m.simulation_modes
    assert m.all_at_once_prompt_tokens > 0
    for row in out.eval_result_details:
        if row.outcome is None:
            continue
        kinds = [w.kind for w in row.outcome.windows]
        assert kinds.count("activating") == 2 and kinds.count("similar_negative") == 2
        for w in row.outcome.windows:
            if w.kind == "similar_negative":
                assert max(w.true) == 0.0
            if w.predicted is not None:
                assert len(w.predicted) == len(w.true) == 12
                assert all(0.0 <= p <= 10.0 for p in w.predicted)
        # every window was read (a failed window would leave the latent unfinished)
        assert row.metrics.n_failed_windows == 0
        predicted = [p for w in row.outcome.windows for p in w.predicted or []]
        assert len(set(predicted)) > 1  # the simulator told tokens apart, not one constant
