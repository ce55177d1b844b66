"""Fuzzing, surprisal and embedding together (``evals.all``) on the embedded default: Gemma 3
270M, the shipped SAE, the offline LLM for explanations and fuzzing judgements, Gemma itself
in-process as the surprisal scoring LM, and all-MiniLM-L6-v2 loaded from its PyPI package.
Two latents; the LLM response cache is off so every answer is real."""

from pathlib import Path

from sae_interp.evals.all import AllEvalConfig, run_eval


def test_fuzzing_surprisal_embedding_offline(gemma, tmp_path: Path) -> None:
    cfg = AllEvalConfig.model_validate(
        {
            "evals": ["fuzzing", "surprisal", "embedding"],
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
    m = out.eval_result_metrics.model_dump()
    assert m["n_explained"] >= 1
    explain_calls = m["n_explained"] + m["fuzzing"]["n_failed_explanations"]
    fuzz_calls = m["llm_usage"]["calls"] - explain_calls
    assert fuzz_calls > 0 and m["llm_usage"]["cached"] == 0  # explanations paid once, not 3x
    for row in out.eval_result_details:
        if row.explanation is None:
            continue
        assert set(row.metrics) == {"fuzzing", "surprisal", "embedding"}
        surprisal = row.metrics["surprisal"]
        assert (surprisal["n_examples"] >= 5 and 0.0 <= surprisal["auroc"] <= 1.0) or (
            surprisal["auroc"] != surprisal["auroc"]  # nan: a dense latent with no negatives
        )
        embedding = row.metrics["embedding"]
        for key in ("mean_similarity_activating", "mean_similarity_negatives"):
            value = embedding[key]
            assert value != value or -1.0 <= value <= 1.0
    surprisal_out = next((tmp_path / "surprisal").glob("*.json")).read_text()
    assert '"loss_explanation"' in surprisal_out and '"loss_drop_active"' in surprisal_out
    fuzz_out = next((tmp_path / "fuzzing").glob("*.json")).read_text()
    assert '"highlighted"' in fuzz_out
