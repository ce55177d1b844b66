"""Steering one latent and finding how hard to steer it.

The steering hook changes one SAE latent at the SAE's hook, keeping the SAE's error term:

    h' = decode(z') + (h - decode(z)),   z = encode(h)

computed as ``h + (decode(z') - decode(z))`` so that an unchanged code returns ``h`` exactly.
``z'`` adds ``delta`` to latent ``i`` (``add``) or sets it to zero (``ablate``). Only the
last position of each forward pass is changed: during generation with a key/value cache that
is the last prompt position on the first pass and each newly generated token afterwards.
``delta`` may be one number or one per batch row (several strengths in one pass).

The strength search finds ``delta`` so that a monotone-ish response (the mean next-token
KL(clean || steered) over test prompts) hits a target within a tolerance: log-scale
bracketing (doubling or halving from a start value), then bisection in log space, with a
bounded number of evaluations; it is pure (the response is a function argument).

:func:`steer_latent` is what the intervention eval does with the model for one latent: find
the strength that hits the target KL on the test prompts, read the most-promoted tokens on
the train prompts, and sample clean and steered continuations of the test prompts."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from pydantic import BaseModel, Field
from transformer_lens import HookedTransformer

from sae_interp.base import FrozenModel
from sae_interp.interventions.metrics import mean_kl, top_rises
from sae_interp.interventions.model_sampling import next_token_logprobs, sample_continuations
from sae_interp.models.hooks import hooks_attached
from sae_interp.saes.base import BaseSAE

Mode = Literal["add", "ablate"]


def steer_last_position(
    h: torch.Tensor, sae: BaseSAE, latent: int, delta: float | torch.Tensor, mode: Mode
) -> torch.Tensor:
    """``h`` [batch, pos, d_in] with its last position steered (a new tensor)."""
    last = h[:, -1, :]
    z = sae.encode(last.to(sae.dtype))
    z_new = z.clone()
    if mode == "add":
        step = torch.as_tensor(delta, dtype=z.dtype, device=z.device)
        z_new[:, latent] = z[:, latent] + step
    elif mode == "ablate":
        z_new[:, latent] = 0.0
    else:
        raise ValueError(f"unknown steering mode {mode!r}; use 'add' or 'ablate'")
    change = (sae.decode(z_new) - sae.decode(z)).to(h.dtype)
    out = h.clone()
    out[:, -1, :] = last + change
    return out


@contextlib.contextmanager
def steered(
    model: HookedTransformer,
    sae: BaseSAE,
    latent: int,
    delta: float | torch.Tensor,
    mode: Mode = "add",
) -> Iterator[None]:
    """Every forward pass inside the block steers ``latent`` at the SAE's hook."""

    def hook(h: torch.Tensor, hook: object) -> torch.Tensor:
        return steer_last_position(h, sae, latent, delta, mode)

    with hooks_attached(model, [(sae.cfg.hook_name, hook)]):
        yield


class StrengthResult(BaseModel):
    delta: float = Field(description="The strength found (the closest tried if not converged).")
    kl: float = Field(description="The response at that strength.")
    converged: bool = Field(description="Within tolerance of the target.")
    trace: list[tuple[float, float]] = Field(description="Every (delta, response) evaluated.")


def find_strength(
    response: Callable[[float], float],
    target: float,
    tolerance: float = 0.1,
    start: float = 1.0,
    max_steps: int = 12,
    factor: float = 4.0,
) -> StrengthResult:
    """Search ``delta > 0`` with ``|response(delta) - target| <= tolerance * target``."""
    if start <= 0 or target <= 0:
        raise ValueError("start and target must be positive")
    trace: list[tuple[float, float]] = []

    def evaluate(delta: float) -> float:
        value = float(response(delta))
        trace.append((delta, value))
        return value

    def done(value: float) -> bool:
        return abs(value - target) <= tolerance * target

    lo: float | None = None
    hi: float | None = None
    delta = start
    while len(trace) < max_steps:
        value = evaluate(delta)
        if done(value):
            return StrengthResult(delta=delta, kl=value, converged=True, trace=trace)
        if value < target:
            lo = delta
        else:
            hi = delta
        if lo is not None and hi is not None:
            delta = math.sqrt(lo * hi)  # bisection in log space
        elif hi is None:
            delta = delta * factor
        else:
            delta = delta / factor
    best_delta, best_value = min(trace, key=lambda dv: abs(dv[1] - target))
    return StrengthResult(delta=best_delta, kl=best_value, converged=False, trace=trace)


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
