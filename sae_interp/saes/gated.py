"""Gated SAE (Rajamanoharan et al.): a gate decides which latents fire, a rescaled
magnitude path with shared encoder directions decides how strongly."""

import torch
from torch import nn

from sae_interp.saes.base import LinearSAE, SAEConfig, register_sae_class


@register_sae_class("gated")
class GatedSAE(LinearSAE):
    def __init__(self, cfg: SAEConfig) -> None:
        super().__init__(cfg)  # b_enc is the gate bias
        self.r_mag = nn.Parameter(torch.zeros(cfg.d_sae, dtype=self.W_enc.dtype))
        self.b_mag = nn.Parameter(torch.zeros(cfg.d_sae, dtype=self.W_enc.dtype))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        if self.cfg.apply_b_dec_to_input:
            x = x - self.b_dec
        proj = x @ self.W_enc
        gate = (proj + self.b_enc) > 0
        magnitude = torch.relu(proj * torch.exp(self.r_mag) + self.b_mag)
        return gate * magnitude
