"""Per-latent firing statistics, computed from the sparse entries of a cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


@dataclass
class LatentStats:
    n_tokens: int  # valid (unmasked) tokens the statistics are over
    count: torch.Tensor  # [F] int64, tokens where the latent is non-zero
    total: torch.Tensor  # [F] float64, sum of activations
    total_sq: torch.Tensor  # [F] float64, sum of squared activations
    max: torch.Tensor  # [F] float32, largest activation (0 if never active)

    @classmethod
    def empty(cls, n_latents: int, n_tokens: int) -> LatentStats:
        return cls(
            n_tokens=n_tokens,
            count=torch.zeros(n_latents, dtype=torch.int64),
            total=torch.zeros(n_latents, dtype=torch.float64),
            total_sq=torch.zeros(n_latents, dtype=torch.float64),
            max=torch.zeros(n_latents, dtype=torch.float32),
        )

    def update(self, latent: torch.Tensor, value: torch.Tensor) -> None:
        """Accumulate sparse entries (local latent index, value)."""
        idx = latent.long()
        vals = value.double()
        self.count += torch.bincount(idx, minlength=self.count.numel())
        self.total.index_add_(0, idx, vals)
        self.total_sq.index_add_(0, idx, vals * vals)
        self.max.scatter_reduce_(0, idx, value.float(), reduce="amax", include_self=True)

    @property
    def frequency(self) -> torch.Tensor:
        return self.count.double() / max(self.n_tokens, 1)

    @property
    def mean_when_active(self) -> torch.Tensor:
        return self.total / self.count.clamp(min=1)

    def save(self, path: Path) -> None:
        save_file(
            {
                "n_tokens": torch.tensor([self.n_tokens], dtype=torch.int64),
                "count": self.count,
                "total": self.total,
                "total_sq": self.total_sq,
                "max": self.max,
            },
            str(path),
        )

    @classmethod
    def load(cls, path: Path) -> LatentStats:
        data = load_file(str(path))
        return cls(
            n_tokens=int(data["n_tokens"][0]),
            count=data["count"],
            total=data["total"],
            total_sq=data["total_sq"],
            max=data["max"],
        )
