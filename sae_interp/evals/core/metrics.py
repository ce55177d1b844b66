"""Pure accumulators and formulas for the core metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
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


@dataclass
class SequenceTotals:
    """Per-sequence sums behind the pooled core metrics, so that their intervals come from
    resampling whole sequences (tokens within a sequence are not independent)."""

    n: list[float] = field(default_factory=list)
    sse: list[float] = field(default_factory=list)
    sum_sq: list[float] = field(default_factory=list)
    sum_x: list[torch.Tensor] = field(default_factory=list)
    l0: list[float] = field(default_factory=list)

    def update(
        self,
        x_BLD: torch.Tensor,
        x_hat_BLD: torch.Tensor,
        f_BLF: torch.Tensor,
        mask_BL: torch.Tensor,
    ) -> None:
        m = mask_BL.double().unsqueeze(-1)
        x, x_hat = x_BLD.double() * m, x_hat_BLD.double() * m
        self.n += mask_BL.sum(1).double().tolist()
        self.sse += ((x - x_hat) ** 2).sum((1, 2)).tolist()
        self.sum_sq += (x**2).sum((1, 2)).tolist()
        self.sum_x += list(x.sum(1).cpu())
        self.l0 += ((f_BLF != 0).double() * m).sum((1, 2)).tolist()

    def units(self) -> dict[str, np.ndarray]:
        keep = np.asarray(self.n) > 0
        return {
            "n": np.asarray(self.n)[keep],
            "sse": np.asarray(self.sse)[keep],
            "sum_sq": np.asarray(self.sum_sq)[keep],
            "sum_x": torch.stack(self.sum_x).numpy()[keep],
            "l0": np.asarray(self.l0)[keep],
        }


def explained_variance_of_sums(t: dict[str, np.ndarray]) -> np.ndarray:
    """1 - SSE / SST from (resampled) sums; SST from the sums of x and x²."""
    sst = t["sum_sq"] - (t["sum_x"] ** 2).sum(-1) / t["n"]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(1.0 - t["sse"] / sst)


def l0_of_sums(t: dict[str, np.ndarray]) -> np.ndarray:
    return np.asarray(t["l0"] / t["n"])


def ce_recovered_of_sums(t: dict[str, np.ndarray]) -> np.ndarray:
    """(CE_zero - CE_sae) / (CE_zero - CE_clean) from per-sequence loss sums."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((t["zero"] - t["sae"]) / (t["zero"] - t["clean"]))


def kl_of_sums(t: dict[str, np.ndarray]) -> np.ndarray:
    return np.asarray(t["kl"] / t["n"])
