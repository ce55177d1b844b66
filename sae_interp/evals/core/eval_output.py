"""Output schema of the core eval."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sae_interp.evals.core.eval_config import CoreEvalConfig
from sae_interp.framework.output import BaseEvalOutput
from sae_interp.stats import Estimate


class SparsityMetrics(BaseModel):
    l0: float = Field(description="Mean number of non-zero latents per token.")
    l1: float = Field(description="Mean sum of absolute latent activations per token.")
    dead_fraction: float = Field(description="Fraction of latents never active on the tokens.")
    dense_fraction: float = Field(description="Fraction of latents active above the threshold.")
    n_dead: int
    n_dense: int


class ReconstructionMetrics(BaseModel):
    explained_variance: float = Field(description="1 - SSE / total variance of the activations.")
    mse: float = Field(description="Mean squared error per activation dimension.")
    cosine_similarity: float = Field(description="Mean cosine(x, x_hat) per token.")
    relative_norm: float = Field(description="Mean |x_hat| / |x| per token (shrinkage below 1).")


class ModelBehaviourMetrics(BaseModel):
    ce_loss_clean: float
    ce_loss_with_sae: float = Field(description="CE loss with the SAE reconstruction spliced in.")
    ce_loss_zero_ablation: float = Field(description="CE loss with the hook's output zeroed.")
    ce_loss_recovered: float = Field(
        description="(CE_zero - CE_sae) / (CE_zero - CE_clean); 1 = lossless."
    )
    kl_div_with_sae: float = Field(description="Mean next-token KL(clean || with SAE).")
    n_tokens: int


class CoreMetrics(BaseModel):
    sparsity: SparsityMetrics
    reconstruction: ReconstructionMetrics
    model_behaviour: ModelBehaviourMetrics | None = None
    n_tokens: int = Field(description="Tokens the sparsity and reconstruction metrics cover.")
    intervals: dict[str, Estimate] = Field(
        default_factory=dict,
        description="l0, explained_variance, ce_loss_recovered and kl_div_with_sae with "
        "bootstrap intervals over sequences (n = sequences).",
    )


class LatentCoreStats(BaseModel):
    latent: int
    frequency: float
    mean_activation: float = Field(description="Mean activation when active.")
    max_activation: float


class CoreEvalOutput(BaseEvalOutput[CoreEvalConfig, CoreMetrics, LatentCoreStats]):
    """Result of ``sae_interp.evals.core``."""
