"""PCA "SAE": latents are coordinates along the top principal components (a dense,
non-sparse baseline). ``b_dec`` holds the mean, ``W_dec`` the components."""

from __future__ import annotations

import torch

from sae_interp.saes.base import LinearSAE, SAEConfig, register_sae_class


@register_sae_class("pca")
class PCASAE(LinearSAE):
    def __init__(self, cfg: SAEConfig) -> None:
        if cfg.d_sae > cfg.d_in:
            raise ValueError("PCA SAE needs d_sae <= d_in")
        super().__init__(cfg.model_copy(update={"apply_b_dec_to_input": True}))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.b_dec) @ self.W_enc

    @classmethod
    def fit(
        cls, acts_ND: torch.Tensor, hook_name: str, d_sae: int | None = None, model_name: str = ""
    ) -> PCASAE:
        """Fit on a matrix of activations [n_tokens, d_in]."""
        acts = acts_ND.detach().to(torch.float64)
        d_in = acts.shape[1]
        mean = acts.mean(0)
        _, _, vh = torch.linalg.svd(acts - mean, full_matrices=False)
        d_sae = d_sae or d_in
        cfg = SAEConfig(
            architecture="pca", d_in=d_in, d_sae=d_sae, hook_name=hook_name, model_name=model_name
        )
        sae = cls(cfg)
        components = vh[:d_sae].to(sae.W_dec.dtype)  # [d_sae, d_in], orthonormal rows
        with torch.no_grad():
            sae.W_dec.copy_(components)
            sae.W_enc.copy_(components.T)
            sae.b_dec.copy_(mean.to(sae.b_dec.dtype))
        return sae
