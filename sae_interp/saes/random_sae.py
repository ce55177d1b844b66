"""The random-SAE control: an SAE of the same class and shape whose directions are random.

Decoder rows are random unit directions rescaled to the original rows' norms; the encoder is
their transpose, each column divided by its row's norm (a scaled transpose, not a
pseudo-inverse: encoding a decoder row gives exactly 1 on its own latent, and little on
the others, since random directions are nearly orthogonal); biases and
thresholds are kept, so the control has a comparable scale and sparsity
rule but no learned features. Built on the fly from a seed; never stored.
"""

from __future__ import annotations

import copy

import torch

from sae_interp.saes.base import BaseSAE


@torch.no_grad()
def random_like(sae: BaseSAE, seed: int = 0) -> BaseSAE:
    control = copy.deepcopy(sae)
    gen = torch.Generator().manual_seed(seed)
    d_sae, d_in = sae.W_dec.shape
    directions = torch.randn(d_sae, d_in, generator=gen, dtype=torch.float64)
    directions /= directions.norm(dim=-1, keepdim=True)
    norms = sae.W_dec.detach().double().norm(dim=-1, keepdim=True).cpu()
    w_dec = directions * norms
    w_enc = (directions / norms.clamp(min=1e-12)).T
    control.W_dec.copy_(w_dec.to(sae.W_dec.dtype))
    control.W_enc.copy_(w_enc.to(sae.W_enc.dtype))
    control.cfg = sae.cfg.model_copy(
        update={
            "extra": {
                **sae.cfg.extra,
                "random_control_seed": seed,
                "random_control_of": sae.cfg.architecture,
            }
        }
    )
    return control
