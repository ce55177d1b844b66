"""Convert trained sae-lens SAEs into sae_interp's own classes, checking equality."""

from __future__ import annotations

from typing import Any

import torch

from sae_interp.saes.base import BaseSAE, SAEConfig, build_sae


def from_saelens(inner: Any, model_name: str, check_input: torch.Tensor) -> BaseSAE:
    """Copy a sae-lens inference SAE (standard / topk / jumprelu) into our class and verify
    that encode and decode agree on ``check_input``."""
    arch = {"standard": "relu", "topk": "topk", "jumprelu": "jumprelu"}[inner.cfg.architecture()]
    if inner.cfg.normalize_activations != "none":
        raise ValueError("fold the activation normalisation into the weights before converting")
    cfg = SAEConfig(
        architecture=arch,
        d_in=inner.cfg.d_in,
        d_sae=inner.cfg.d_sae,
        hook_name=inner.cfg.metadata.hook_name,
        model_name=model_name,
        dtype="float32",
        apply_b_dec_to_input=bool(inner.cfg.apply_b_dec_to_input),
        k=getattr(inner.cfg, "k", None),
    )
    sae = build_sae(cfg)
    with torch.no_grad():
        for name in ("W_enc", "b_enc", "W_dec", "b_dec", "threshold"):
            if hasattr(sae, name) and hasattr(inner, name):
                getattr(sae, name).copy_(getattr(inner, name).detach().float())
        ours, theirs = sae.encode(check_input), inner.encode(check_input)
    if not torch.allclose(ours, theirs, atol=1e-4, rtol=1e-4):
        raise RuntimeError(
            f"converted {arch} SAE encodes differently: {(ours - theirs).abs().max()}"
        )
    if not torch.allclose(sae.decode(ours), inner.decode(theirs), atol=1e-3, rtol=1e-4):
        raise RuntimeError(f"converted {arch} SAE decodes differently")
    return sae
