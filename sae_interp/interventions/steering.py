"""Steering one SAE latent at the SAE's hook, keeping the SAE's error term:

    h' = decode(z') + (h - decode(z)),   z = encode(h)

computed as ``h + (decode(z') - decode(z))`` so that an unchanged code returns ``h`` exactly.
``z'`` adds ``delta`` to latent ``i`` (``add``) or sets it to zero (``ablate``). Only the
last position of each forward pass is changed: during generation with a key/value cache that
is the last prompt position on the first pass and each newly generated token afterwards.
``delta`` may be one number or one per batch row (several strengths in one pass).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal

import torch
from transformer_lens import HookedTransformer

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
