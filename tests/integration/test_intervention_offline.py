"""The intervention eval on the embedded default (Gemma 3 270M, the shipped SAE, the offline
LLM, Gemma as the scoring LM), on two latents (the fewest with a shuffled-explanation
control). Short prompts, continuations and explanations and a short strength search keep it
small; the random-SAE arm (the same stages on another SAE, which would double the run) is
covered on the tiny model by tests/unit/test_intervention_eval.py."""

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
            "sampling": {"n_train": 1, "n_test": 2, "n_negatives": 0, "min_activating": 5},
            "steering": {"prompt_len": 16, "n_continuation_tokens": 4, "max_steps": 6},
            "explainer": {"n_explanations": 1, "n_top_tokens": 4, "max_tokens": 40},
            "random_sae_control": False,
            "llm": {"concurrency": 1, "cache": False},
        }
    )
    (out,) = run_eval(cfg, model=gemma)
    m = out.eval_result_metrics
    assert m.n_requested == m.n_scored == 2 and m.llm_usage["calls"] >= 2
    assert m.random_sae_control is None and m.real_minus_random_sae is None
    rows = out.eval_result_details
    assert [r.status for r in rows] == ["ok", "ok"]
    # the strength search reaches the target KL (1 nat) on at least one latent in six steps
    converged = [r for r in rows if r.strength is not None and r.strength.converged]
    assert converged and all(abs(r.strength.kl - 1.0) <= 0.1 for r in converged)  # type: ignore[union-attr]
    for r in rows:
        assert r.strength is not None and len(r.strength.trace) <= 6
        assert len(r.continuations) == 2
        assert any(c.clean != c.steered for c in r.continuations)  # steering changed the text
        # what the eval is for: the latent's own explanation predicts its steered text better
        # than another latent's. The explanations are sampled (temperature 1), so the margin
        # moves between installs: measured 0.62 and 0.50 nats in one, 0.09 in another
        assert r.score is not None and r.control_score is not None
        assert r.score > r.control_score, (r.latent, r.score, r.control_score)
    control = m.real_minus_shuffled_control
    assert control is not None and control.n_latents == 2 and control.score.value is not None
    assert control.score.value > 0
