"""Pure accumulators and formulas for the core metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


def ce_loss_recovered(ce_clean: float, ce_sae: float, ce_zero: float) -> float:
    """Fraction of the loss gap to zero-ablation the SAE closes (nan if no gap)."""
    gap = ce_zero - ce_clean
    return float("nan") if gap == 0 else (ce_zero - ce_sae) / gap


@dataclass
class ReconstructionAccumulator:
    """Streams over (x, x_hat, latents) of valid tokens only."""

    d_sae: int
    n: int = 0
    sse: float = 0.0
    sum_x: torch.Tensor | None = None
    sum_sq_x: float = 0.0
    cos_sum: float = 0.0
    norm_ratio_sum: float = 0.0
    l0_sum: float = 0.0
    l1_sum: float = 0.0
    count: torch.Tensor = field(init=False)
    total: torch.Tensor = field(init=False)
    max: torch.Tensor = field(init=False)

    def __post_init__(self) -> None:
        self.count = torch.zeros(self.d_sae, dtype=torch.int64)
        self.total = torch.zeros(self.d_sae, dtype=torch.float64)
        self.max = torch.zeros(self.d_sae, dtype=torch.float64)

    def update(self, x_ND: torch.Tensor, x_hat_ND: torch.Tensor, f_NF: torch.Tensor) -> None:
        x, x_hat, f = x_ND.double(), x_hat_ND.double(), f_NF.double()
        self.n += x.shape[0]
        self.sse += float(((x - x_hat) ** 2).sum())
        batch_sum = x.sum(0).cpu()
        self.sum_x = batch_sum if self.sum_x is None else self.sum_x + batch_sum
        self.sum_sq_x += float((x**2).sum())
        self.cos_sum += float(torch.nn.functional.cosine_similarity(x, x_hat, dim=-1).sum())
        self.norm_ratio_sum += float((x_hat.norm(dim=-1) / x.norm(dim=-1).clamp(min=1e-12)).sum())
        active = f != 0
        self.l0_sum += float(active.sum())
        self.l1_sum += float(f.abs().sum())
        self.count += active.sum(0).cpu()
        self.total += f.sum(0).cpu()
        self.max = torch.maximum(self.max, f.max(0).values.cpu())

    @property
    def d_in(self) -> int:
        return 0 if self.sum_x is None else int(self.sum_x.numel())

    def explained_variance(self) -> float:
        assert self.sum_x is not None
        sst = self.sum_sq_x - float((self.sum_x**2).sum()) / self.n
        return 1.0 - self.sse / sst if sst > 0 else float("nan")

    def mse(self) -> float:
        return self.sse / (self.n * self.d_in)

    def frequency(self) -> torch.Tensor:
        return self.count.double() / max(self.n, 1)
