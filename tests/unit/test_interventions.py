import itertools
import math

import pytest
import torch

from sae_interp.activations.records import Window
from sae_interp.interventions import (
    explanation_score,
    find_strength,
    latent_score,
    mean_kl,
    next_token_logprobs,
    prompt_for,
    sample_continuations,
    steer_last_position,
    steered,
    top_rises,
)
from sae_interp.scorers import intervention_prompts
from sae_interp.scorers.intervention import score_explanations
from sae_interp.scoring_lm import TokenLogprobs
from sae_interp.testing import make_tiny_sae

PROMPTS = [[1, 5, 6, 7, 8, 9], [1, 10, 11], [1, 12, 13, 14, 15]]


@pytest.fixture
def sae():  # type: ignore[no-untyped-def]
    return make_tiny_sae(d_sae=32, k=4)


def test_zero_delta_reproduces_clean_logits_exactly(tiny_model, sae) -> None:
    tokens = torch.tensor([PROMPTS[0]])
    clean = tiny_model(tokens)
    with steered(tiny_model, sae, latent=3, delta=0.0):
        same = tiny_model(tokens)
    assert torch.equal(clean, same)
    with steered(tiny_model, sae, latent=3, delta=5.0):
        moved = tiny_model(tokens)
    # only the last position (and what follows it) changes
    assert torch.equal(clean[:, :-1], moved[:, :-1]) and not torch.equal(clean[:, -1], moved[:, -1])


def test_steering_adds_the_decoder_direction_and_keeps_the_error(sae) -> None:
    h = torch.randn(2, 3, 16)
    out = steer_last_position(h, sae, latent=5, delta=2.0, mode="add")
    assert torch.allclose(out[:, -1] - h[:, -1], 2.0 * sae.W_dec[5].expand(2, -1), atol=1e-5)
    assert torch.equal(out[:, :-1], h[:, :-1])
    z = sae.encode(h[:, -1])
    ablated = steer_last_position(h, sae, latent=5, delta=0.0, mode="ablate")
    expected = h[:, -1] - z[:, 5:6] * sae.W_dec[5]
    assert torch.allclose(ablated[:, -1], expected, atol=1e-5)
    with pytest.raises(ValueError, match="mode"):
        steer_last_position(h, sae, 5, 1.0, mode="boost")  # type: ignore[arg-type]


def test_left_padded_batches_match_single_prompts(tiny_model) -> None:
    batched = next_token_logprobs(tiny_model, PROMPTS, batch_size=3)
    for row, prompt in enumerate(PROMPTS):
        single = torch.log_softmax(tiny_model(torch.tensor([prompt]))[0, -1], -1)
        assert torch.allclose(batched[row], single, atol=1e-4)


def test_sampling_is_seeded_and_greedy_matches_argmax(tiny_model) -> None:
    a = sample_continuations(tiny_model, PROMPTS, n_tokens=4, temperature=1.0, seed=3)
    b = sample_continuations(tiny_model, PROMPTS, n_tokens=4, temperature=1.0, seed=3)
    assert a == b and all(len(c) == 4 for c in a)
    greedy = sample_continuations(tiny_model, PROMPTS[:1], n_tokens=3, temperature=0.0)
    tokens = list(PROMPTS[0])
    for _ in range(3):
        tokens.append(int(tiny_model(torch.tensor([tokens]))[0, -1].argmax()))
    assert greedy[0] == tokens[-3:]


def test_kl_grows_with_delta_and_the_search_hits_the_target(tiny_model, sae) -> None:
    clean = next_token_logprobs(tiny_model, PROMPTS)

    def kl_at(delta: float) -> float:
        with steered(tiny_model, sae, latent=3, delta=delta):
            return mean_kl(clean, next_token_logprobs(tiny_model, PROMPTS))

    values = [kl_at(d) for d in (0.0, 1.0, 2.0, 4.0, 8.0)]
    assert values[0] == pytest.approx(0.0, abs=1e-6)
    assert all(a < b for a, b in itertools.pairwise(values))
    target = values[2] * 1.3  # somewhere between delta 2 and 4
    result = find_strength(kl_at, target, tolerance=0.05, start=0.5, max_steps=20)
    assert result.converged and abs(result.kl - target) <= 0.05 * target
    assert 2.0 < result.delta < 4.0 and len(result.trace) <= 20


def test_search_on_pure_functions() -> None:
    result = find_strength(lambda d: (d / 3) ** 2, target=1.0, tolerance=0.1, start=0.01)
    assert result.converged and 2.8 < result.delta < 3.2
    saturating = find_strength(lambda d: min(d, 0.5), target=1.0, tolerance=0.1, max_steps=6)
    assert not saturating.converged and saturating.kl == 0.5 and len(saturating.trace) == 6
    with pytest.raises(ValueError):
        find_strength(lambda d: d, target=1.0, start=0.0)


def test_prompt_is_cut_after_the_first_activating_token() -> None:
    tokens = torch.arange(100).reshape(2, 50)
    tokens[:, 0] = 1  # BOS
    window = Window(seq=1, start=9, end=13, tokens=[59, 60, 61, 62], activations=[0, 0, 2.0, 3.0])
    assert prompt_for(window, tokens, max_len=5, bos=True) == [1, 58, 59, 60, 61]
    assert prompt_for(window, tokens, max_len=64, bos=True) == [1, *range(51, 62)]
    assert prompt_for(window, tokens, max_len=3, bos=False) == [59, 60, 61]
    silent = window.model_copy(update={"activations": [0.0] * 4})
    assert prompt_for(silent, tokens, max_len=5, bos=True) is None


def test_pure_metrics_by_hand() -> None:
    clean = torch.log(torch.tensor([[0.5, 0.5], [0.9, 0.1]]))
    steered_lp = torch.log(torch.tensor([[0.5, 0.5], [0.1, 0.9]]))
    expected = 0.5 * (0.9 * math.log(9) + 0.1 * math.log(1 / 9))
    assert mean_kl(clean, steered_lp) == pytest.approx(expected)
    assert top_rises(clean, steered_lp, k=1)[1] == [(1, pytest.approx(0.8))]
    assert explanation_score([5.0, 4.0], [3.0, 4.5]) == pytest.approx((2.0 - 0.5) / 2)
    assert math.isnan(explanation_score([], []))
    assert latent_score([0.1, math.nan, 0.7]) == 0.7 and math.isnan(latent_score([math.nan]))
    with pytest.raises(ValueError):
        explanation_score([1.0], [])


class ConceptLM:
    """log p(each word of the explanation) = -1 if the passage mentions it, else -4."""

    def identity(self) -> str:
        return "concept-lm"

    def continuation_logprobs(self, prefix, continuations):  # type: ignore[no-untyped-def]
        passage = prefix.rsplit("<PASSAGE>\n", 1)[1]
        return [
            TokenLogprobs(
                [-1.0 if w in passage else -4.0 for w in text.split()], [0] * len(text.split())
            )
            for text in continuations
        ]


def test_explanations_that_name_the_steered_effect_score_higher() -> None:
    clean = ["the weather was mild", "we walked home"]
    steered_p = ["the weather was rain rain", "we walked home in rain"]
    good, bad = score_explanations(ConceptLM(), clean, steered_p, ["rain", "cheese"])
    assert good == pytest.approx(3.0) and bad == 0.0  # surprisal 4 -> 1 on both prompts
    assert intervention_prompts.prefix("P").endswith(
        '<PASSAGE>\nP\n\nThe above passage contains an amplified amount of "'
    )
    assert (
        intervention_prompts.prefix("P").count("<PASSAGE>") == len(intervention_prompts.DEMOS) + 1
    )
