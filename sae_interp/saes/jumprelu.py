"""JumpReLU SAE: a latent passes only when its pre-activation exceeds its own threshold."""

import torch
from torch import nn

from sae_interp.saes.base import LinearSAE, SAEConfig, register_sae_class


@register_sae_class("jumprelu")
class JumpReLUSAE(LinearSAE):
    def __init__(self, cfg: SAEConfig) -> None:
        super().__init__(cfg)
        self.threshold = nn.Parameter(torch.zeros(cfg.d_sae, dtype=self.W_enc.dtype))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.pre_acts(x)
        return torch.relu(pre) * (pre > self.threshold)
