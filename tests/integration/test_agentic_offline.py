"""The agentic eval on one latent of the embedded default: Gemma 3 270M + the shipped SAE as
the live model the agent experiments on, the offline LLM as the agent, explainer, text
writer and simulator. One test round, two generated texts and one prediction window per
activation band keep it near two minutes on 2 cores.

What is asserted here is the whole path on the live model: the agent's test ran there, its
explanation was evaluated (generated texts run through the model, windows predicted). The
offline LLM does not meet a quality bar for the agent: measured on these settings its
explanation ("explicit sexual content ... Clark ... bear cub") made texts that never fired
the latent (generation success 0, one-shot's 0.5). That the eval tells a good agent from a
bad one is asserted with a scripted judge in ``tests/unit/test_agentic_eval.py``."""

from pathlib import Path

from sae_interp.agentic.schema import State
from sae_interp.evals.agentic import AgenticEvalConfig, run_eval


def test_agentic_offline_one_latent(gemma, tmp_path: Path) -> None:
    cfg = AgenticEvalConfig.model_validate(
        {
            "saes": ["embedded"],
            "n_tokens": 16_384,
            "n_latents": 1,
            "device": "cpu",
            "output_dir": str(tmp_path),
            "sampling": {
                "window_len": 16,
                "n_train": 8,
                "train_strategy": "top",
                "n_test": 3,
                "n_negatives": 0,
                "min_activating": 14,
            },
            "explainer": {"max_tokens": 80},
            "agent": {"max_rounds": 1, "min_tests": 1, "top_k": 6, "max_tokens": 200},
            "generation": {"n_texts": 2, "max_tokens": 120},
            "prediction": {"n_per_band": 1},
            "llm": {"concurrency": 1, "cache": False},
        }
    )
    (out,) = run_eval(cfg, model=gemma)
    (r,) = out.eval_result_details
    assert r.status == "ok"
    t = r.transcript
    assert t is not None and len(t.exemplars) == 6 and t.exemplar_mean_max > 0
    states = [s.state for s in t.steps]
    assert states[0] == State.GET_EXEMPLARS and State.FINAL_CONCLUSION in states
    assert len(t.tests) == 1 and t.stop_reason in ("concluded", "max_rounds")
    (test,) = t.tests  # the agent's test ran on the live model
    assert test.error is None and test.result is not None and len(test.result.activations) > 0
    assert r.agentic is not None and r.agentic.explanation
    generation = r.agentic.generation
    assert generation.error is None and generation.threshold > 0
    assert len(generation.texts) == len(generation.max_activations) == 2  # run on the model
    assert 1 <= len(r.agentic.prediction.windows) <= 3
    assert r.one_shot is not None and r.one_shot.explanation
    assert r.llm_usage["calls"] >= 3 and r.llm_usage["prompt_tokens"] > 0
