"""Configuration of the core eval (sparsity, reconstruction and downstream loss)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from sae_interp.framework.config import BaseEvalConfig


class CoreEvalConfig(BaseEvalConfig):
    """Core SAE metrics: L0, dead/dense latents, explained variance, MSE, CE loss recovered."""

    eval_type_id: ClassVar[str] = "core"

    corpus: str = Field(
        default="embedded:validation",
        description="Corpus spec; the default is the embedded corpus' held-out split.",
    )
    n_tokens: int = Field(
        default=16_384, gt=0, description="Tokens for sparsity and reconstruction metrics."
    )
    n_ce_tokens: int = Field(
        default=2_048,
        ge=0,
        description="Tokens for the CE-loss metrics (three full forward passes each; 0 = skip).",
    )
    dense_threshold: float = Field(
        default=0.1, gt=0, le=1, description="A latent firing on more tokens than this is dense."
    )
    save_latent_stats: bool = Field(
        default=True, description="Write per-latent frequency / mean / max into the result."
    )
