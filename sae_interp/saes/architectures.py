"""The SAE classes shipped with the library, each registered by architecture name: the linear
SAEs (ReLU, JumpReLU, TopK, BatchTopK, Gated), each a small subclass of
:class:`~sae_interp.saes.base.LinearSAE` with its own ``encode``, and two baselines (identity:
the activations themselves; PCA). Register your own the same way with
``register_sae_class``."""

from __future__ import annotations

import torch
from torch import nn

from sae_interp.saes.base import LinearSAE, SAEConfig, register_sae_class


@register_sae_class("relu")
class ReLUSAE(LinearSAE):
    """Standard ReLU SAE (trained with an L1 penalty): f = ReLU(W_enc (x - b_dec?) + b_enc)."""

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.pre_acts(x))


@register_sae_class("jumprelu")
class JumpReLUSAE(LinearSAE):
    """JumpReLU SAE: a latent passes only when its pre-activation exceeds its own threshold."""

    def __init__(self, cfg: SAEConfig) -> None:
        super().__init__(cfg)
        self.threshold = nn.Parameter(torch.zeros(cfg.d_sae, dtype=self.W_enc.dtype))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.pre_acts(x)
        return torch.relu(pre) * (pre > self.threshold)


@register_sae_class("topk")
class TopKSAE(LinearSAE):
    """TopK SAE: keep the k largest (ReLU'd) pre-activations per token."""

    def __init__(self, cfg: SAEConfig) -> None:
        if cfg.k is None or cfg.k > cfg.d_sae:
            raise ValueError(f"TopK SAE needs 0 < k <= d_sae, got k={cfg.k}, d_sae={cfg.d_sae}")
        super().__init__(cfg)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        pre = torch.relu(self.pre_acts(x))
        values, indices = pre.topk(self.cfg.k or 1, dim=-1, sorted=False)
        return torch.zeros_like(pre).scatter_(-1, indices, values)


@register_sae_class("batch_topk")
class BatchTopKSAE(LinearSAE):
    """BatchTopK SAE. Trained by keeping the top k*B activations over a batch; at inference a
    single learned threshold replaces the batch constraint (as in Bussmann et al.)."""

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


@register_sae_class("gated")
class GatedSAE(LinearSAE):
    """Gated SAE (Rajamanoharan et al.): a gate decides which latents fire, a rescaled
    magnitude path with shared encoder directions decides how strongly."""

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


@register_sae_class("identity")
class IdentitySAE(LinearSAE):
    """Identity "SAE": latents are the activations themselves. A baseline and a test fixture."""

    def __init__(self, cfg: SAEConfig) -> None:
        if cfg.d_sae != cfg.d_in:
            raise ValueError("identity SAE needs d_sae == d_in")
        super().__init__(cfg)
        with torch.no_grad():
            self.W_enc.copy_(torch.eye(cfg.d_in))
            self.W_dec.copy_(torch.eye(cfg.d_in))

    @classmethod
    def for_hook(cls, d_in: int, hook_name: str, model_name: str = "") -> IdentitySAE:
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


@register_sae_class("pca")
class PCASAE(LinearSAE):
    """PCA "SAE": latents are coordinates along the top principal components (a dense,
    non-sparse baseline). ``b_dec`` holds the mean, ``W_dec`` the components."""

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
