"""Fuzzing, surprisal and embedding together (``evals.all``) on the embedded default: Gemma 3
270M, the shipped SAE, the offline LLM for explanations and fuzzing judgements, Gemma itself
in-process as the surprisal scoring LM, and all-MiniLM-L6-v2 loaded from its PyPI package.
Two latents; the LLM response cache is off so every answer is real."""

import json
from pathlib import Path

import pytest
from sklearn.metrics import roc_auc_score

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
    scored = [row for row in out.eval_result_details if row.explanation is not None]
    assert scored and all(
        set(row.metrics) == {"fuzzing", "surprisal", "embedding"} for row in scored
    )
    # each latent's AUROCs equal scikit-learn's on the per-example numbers the run recorded
    # (the shipped SAE is sparse: every latent has activating windows and random negatives)
    surprisal_out = json.loads(next((tmp_path / "surprisal").glob("*.json")).read_text())
    for detail in surprisal_out["eval_result_details"]:
        if detail["outcome"] is None:
            continue
        examples = [e for e in detail["outcome"]["examples"] if e["n_tokens"] > 0]
        labels = [e["label"] for e in examples]
        drops = [e["loss_control"] - e["loss_explanation"] for e in examples]
        assert 1 <= labels.count(1) <= 5 and labels.count(0) == 5  # fewer if under 13 windows
        assert detail["metrics"]["auroc"] == pytest.approx(roc_auc_score(labels, drops))
        assert all(e["loss_drop_active"] is not None for e in examples if e["label"] == 1)
    embedding_out = json.loads(next((tmp_path / "embedding").glob("*.json")).read_text())
    for detail in embedding_out["eval_result_details"]:
        if detail["outcome"] is None:
            continue
        examples = detail["outcome"]["examples"]
        labels = [e["label"] for e in examples]
        sims = [e["similarity"] for e in examples]
        assert all(-1.0 <= x <= 1.0 for x in sims) and len(set(sims)) > 1
        assert detail["metrics"]["auroc"] == pytest.approx(roc_auc_score(labels, sims))
        positives = [x for x, y in zip(sims, labels, strict=True) if y]
        assert detail["metrics"]["mean_similarity_activating"] == pytest.approx(
            sum(positives) / len(positives)
        )
    fuzz_out = next((tmp_path / "fuzzing").glob("*.json")).read_text()
    assert '"highlighted"' in fuzz_out
