"""Standard ReLU SAE (trained with an L1 penalty): f = ReLU(W_enc (x - b_dec?) + b_enc)."""

import torch

from sae_interp.saes.base import LinearSAE, register_sae_class


@register_sae_class("relu")
class ReLUSAE(LinearSAE):
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.pre_acts(x))
