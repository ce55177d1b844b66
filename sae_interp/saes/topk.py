"""TopK SAE: keep the k largest (ReLU'd) pre-activations per token."""

import torch

from sae_interp.saes.base import LinearSAE, SAEConfig, register_sae_class


@register_sae_class("topk")
class TopKSAE(LinearSAE):
    def __init__(self, cfg: SAEConfig) -> None:
        if cfg.k is None or cfg.k > cfg.d_sae:
            raise ValueError(f"TopK SAE needs 0 < k <= d_sae, got k={cfg.k}, d_sae={cfg.d_sae}")
        super().__init__(cfg)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        pre = torch.relu(self.pre_acts(x))
        values, indices = pre.topk(self.cfg.k or 1, dim=-1, sorted=False)
        return torch.zeros_like(pre).scatter_(-1, indices, values)
