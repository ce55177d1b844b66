"""Steering SAE latents and measuring what they do to the model's outputs: the scoped
steering hook, batched next-token distributions and sampling, the strength search, prompts
cut at a latent's first activation, and pure metrics."""

from sae_interp.interventions.metrics import explanation_score, latent_score, mean_kl, top_rises
from sae_interp.interventions.model_sampling import next_token_logprobs, sample_continuations
from sae_interp.interventions.prompts import prompt_for, prompts_for
from sae_interp.interventions.steering import (
    StrengthResult,
    find_strength,
    steer_last_position,
    steered,
)

__all__ = [
    "StrengthResult",
    "explanation_score",
    "find_strength",
    "latent_score",
    "mean_kl",
    "next_token_logprobs",
    "prompt_for",
    "prompts_for",
    "sample_continuations",
    "steer_last_position",
    "steered",
    "top_rises",
]
