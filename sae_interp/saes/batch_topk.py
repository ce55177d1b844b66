"""BatchTopK SAE. Trained by keeping the top k*B activations over a batch; at inference a
single learned threshold replaces the batch constraint (as in Bussmann et al.)."""

import torch
from torch import nn

from sae_interp.saes.base import LinearSAE, SAEConfig, register_sae_class


@register_sae_class("batch_topk")
class BatchTopKSAE(LinearSAE):
    def __init__(self, cfg: SAEConfig) -> None:
        super().__init__(cfg)
        self.threshold = nn.Parameter(torch.zeros((), dtype=self.W_enc.dtype))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        pre = torch.relu(self.pre_acts(x))
        return pre * (pre > self.threshold)

    def encode_batch(self, x: torch.Tensor) -> torch.Tensor:
        """The training-time rule: keep the k * n_tokens largest activations of the batch."""
        if self.cfg.k is None:
            raise ValueError("encode_batch needs cfg.k")
        pre = torch.relu(self.pre_acts(x))
        flat = pre.reshape(-1)
        n_keep = min(flat.numel(), self.cfg.k * (flat.numel() // self.cfg.d_sae))
        values, indices = flat.topk(n_keep, sorted=False)
        return torch.zeros_like(flat).scatter_(0, indices, values).reshape(pre.shape)
