"""Check that a model, an SAE and a context length fit together before any work starts."""

from __future__ import annotations

import torch
from transformer_lens import HookedTransformer

from sae_interp.base.errors import CompatibilityError
from sae_interp.models.hooks import activations_at_hook, check_hook
from sae_interp.saes.base import BaseSAE


def check_sae_fits(model: HookedTransformer, sae: BaseSAE, ctx_len: int | None = None) -> None:
    hook_name = sae.cfg.hook_name
    check_hook(model, hook_name)
    probe = torch.zeros(1, 2, dtype=torch.long, device=model.cfg.device)
    width = int(activations_at_hook(model, probe, hook_name).shape[-1])
    if width != sae.cfg.d_in:
        raise CompatibilityError(
            f"SAE d_in={sae.cfg.d_in} but activations at {hook_name!r} of "
            f"{model.cfg.model_name!r} have width {width}"
        )
    if ctx_len is not None and ctx_len > model.cfg.n_ctx:
        raise CompatibilityError(
            f"ctx_len={ctx_len} exceeds the context of {model.cfg.model_name!r} "
            f"(n_ctx={model.cfg.n_ctx})"
        )
