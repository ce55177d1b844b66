"""Output schema of the sparse probing eval."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sae_interp.evals.sparse_probing.eval_config import SparseProbingEvalConfig
from sae_interp.framework.output import BaseEvalOutput
from sae_interp.probing.records import ProbeRecord, ProbingTiming
from sae_interp.probing.summary import ProbeSummary, VariantSummary


class SparseProbingMetrics(BaseModel):
    """Pooled over datasets (each dataset: mean over seeds and variants); intervals are 95%
    bootstrap intervals over datasets."""

    setting: str
    sae: dict[str, ProbeSummary] = Field(description="SAE probes by k ('k1', 'k16', ...).")
    baselines: dict[str, ProbeSummary] = Field(
        description="Probes on raw activations by method, plus 'best_baseline' (per split, "
        "the method with the best validation AUC)."
    )
    variants: list[VariantSummary] = Field(
        default_factory=list, description="Per training size / fraction (non-normal settings)."
    )
    tolerance: float
    split_seeds: list[int] = Field(description="Seeds of the splits the run drew.")
    n_datasets: int = Field(description="Datasets with at least one SAE probe.")
    n_datasets_requested: int
    n_skipped: int = Field(description="Skip records (datasets, splits or probes).")
    timing: ProbingTiming


class SparseProbingEvalOutput(
    BaseEvalOutput[SparseProbingEvalConfig, SparseProbingMetrics, ProbeRecord]
):
    """Result of ``sae_interp.evals.sparse_probing``: per-probe records in
    ``eval_result_details``, skip records in ``eval_result_unstructured['skipped']``."""
