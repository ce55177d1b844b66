"""What the intervention eval does with the model for one latent: find the steering strength
that hits the target KL on the test prompts, read the most-promoted tokens on the train
prompts, and sample clean and steered continuations of the test prompts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import Field
from transformer_lens import HookedTransformer

from sae_interp.base.frozen import FrozenModel
from sae_interp.interventions.metrics import mean_kl, top_rises
from sae_interp.interventions.model_sampling import next_token_logprobs, sample_continuations
from sae_interp.interventions.steering import steered
from sae_interp.interventions.strength import StrengthResult, find_strength
from sae_interp.saes.base import BaseSAE


class SteeringSettings(FrozenModel):
    mode: Literal["add", "ablate"] = Field(
        default="add", description="'add': add delta to the latent; 'ablate': set it to 0."
    )
    target_kl: float = Field(default=1.0, gt=0, description="Mean next-token KL to reach (nats).")
    tolerance: float = Field(default=0.1, gt=0, lt=1, description="Relative tolerance on the KL.")
    max_steps: int = Field(default=12, gt=0, description="Strengths tried at most per latent.")
    n_continuation_tokens: int = Field(default=8, gt=0, description="Tokens sampled per prompt.")
    temperature: float = Field(default=1.0, ge=0, description="Sampling temperature.")
    prompt_len: int = Field(default=32, gt=1, description="Longest prompt, in tokens.")
    batch_size: int = Field(default=16, gt=0, description="Prompts per forward pass.")


@dataclass
class SteeringOutcome:
    strength: StrengthResult
    train_rises: list[list[tuple[int, float]]]  # per train prompt: (token id, rise)
    clean: list[list[int]]  # continuation per test prompt
    steered: list[list[int]]


def steer_latent(
    model: HookedTransformer,
    sae: BaseSAE,
    latent: int,
    train_prompts: Sequence[Sequence[int]],
    test_prompts: Sequence[Sequence[int]],
    settings: SteeringSettings,
    start: float,
    n_top_tokens: int,
    seed: int,
) -> SteeringOutcome:
    bs = settings.batch_size
    clean_test = next_token_logprobs(model, test_prompts, bs)

    def kl_at(delta: float) -> float:
        with steered(model, sae, latent, delta, settings.mode):
            return mean_kl(clean_test, next_token_logprobs(model, test_prompts, bs))

    if settings.mode == "add":
        strength = find_strength(
            kl_at,
            settings.target_kl,
            settings.tolerance,
            start=max(start, 1e-3),
            max_steps=settings.max_steps,
        )
    else:
        kl = kl_at(0.0)
        strength = StrengthResult(delta=0.0, kl=kl, converged=True, trace=[(0.0, kl)])
    with steered(model, sae, latent, strength.delta, settings.mode):
        steered_train = next_token_logprobs(model, train_prompts, bs)
        steered_test = sample_continuations(
            model, test_prompts, settings.n_continuation_tokens, settings.temperature, seed, bs
        )
    clean_train = next_token_logprobs(model, train_prompts, bs)
    rises = top_rises(clean_train, steered_train, n_top_tokens)
    clean = sample_continuations(
        model, test_prompts, settings.n_continuation_tokens, settings.temperature, seed, bs
    )
    return SteeringOutcome(strength, rises, clean, steered_test)
