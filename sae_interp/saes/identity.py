"""Identity "SAE": latents are the activations themselves. A baseline and a test fixture."""

import torch

from sae_interp.saes.base import LinearSAE, SAEConfig, register_sae_class


@register_sae_class("identity")
class IdentitySAE(LinearSAE):
    def __init__(self, cfg: SAEConfig) -> None:
        if cfg.d_sae != cfg.d_in:
            raise ValueError("identity SAE needs d_sae == d_in")
        super().__init__(cfg)
        with torch.no_grad():
            self.W_enc.copy_(torch.eye(cfg.d_in))
            self.W_dec.copy_(torch.eye(cfg.d_in))

    @classmethod
    def for_hook(cls, d_in: int, hook_name: str, model_name: str = "") -> "IdentitySAE":
        cfg = SAEConfig(
            architecture="identity",
            d_in=d_in,
            d_sae=d_in,
            hook_name=hook_name,
            model_name=model_name,
        )
        return cls(cfg)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x.clone()

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        return latents.clone()
