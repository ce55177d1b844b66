"""The intervention eval on the embedded default (Gemma 3 270M, the shipped SAE, the offline
LLM, Gemma as the scoring LM), on two latents, with both controls."""

from pathlib import Path

import torch

from sae_interp.evals.intervention import InterventionEvalConfig, run_eval
from sae_interp.interventions import next_token_logprobs


def test_left_padding_is_exact_on_gemma(gemma) -> None:
    prompts = [gemma.to_tokens(t)[0].tolist() for t in ("The cat sat on the", "Paris is")]
    batched = next_token_logprobs(gemma, prompts)
    for row, prompt in enumerate(prompts):
        single = torch.log_softmax(gemma(torch.tensor([prompt]))[0, -1].float(), -1)
        assert torch.allclose(batched[row], single, atol=1e-3)


def test_intervention_offline_two_latents(gemma, tmp_path: Path) -> None:
    cfg = InterventionEvalConfig.model_validate(
        {
            "saes": ["embedded"],
            "n_tokens": 16_384,
            "n_latents": 2,
            "device": "cpu",
            "output_dir": str(tmp_path),
            "sampling": {"n_train": 2, "n_test": 3, "n_negatives": 0, "min_activating": 5},
            "steering": {"prompt_len": 24},
            "explainer": {"n_explanations": 1, "max_tokens": 60},
            "llm": {"concurrency": 1, "cache": False},
        }
    )
    (out,) = run_eval(cfg, model=gemma)
    m = out.eval_result_metrics
    assert m.n_requested == 2 and m.llm_usage["calls"] >= 2
    assert m.random_sae_control is not None or out.eval_result_unstructured["random_sae_control"]
    for r in out.eval_result_details:
        if r.status != "ok":
            continue
        assert r.strength is not None
        assert not r.strength.converged or abs(r.strength.kl - 1.0) <= 0.1
        assert len(r.continuations) == 3
        assert any(c.clean != c.steered for c in r.continuations)  # steering changed the text
        assert r.score is not None and r.control_score is not None
