"""Typed per-probe and per-skip records of a sparse probing run."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ProbeRecord(BaseModel):
    """One fitted probe on one split of one dataset."""

    dataset: str
    setting: str
    variant: float | None = Field(
        default=None,
        description="Training size (scarcity), positive fraction (imbalance) or flipped "
        "fraction (corruption); None for normal and OOD.",
    )
    seed: int
    probe: str = Field(description="'sae' for the k-sparse SAE probe, else the baseline method.")
    k: int | None = Field(default=None, description="Latents used (SAE probes only).")
    test_auc: float
    test_acc: float
    test_f1: float = Field(description="Class-weighted F1 (sae-probes' definition).")
    val_auc: float
    n_train: int
    n_test: int
    latents: list[int] | None = Field(
        default=None, description="The k latents, best first (SAE probes with k <= 128)."
    )


class SkipRecord(BaseModel):
    """A dataset, split or probe that produced no numbers, and why."""

    dataset: str
    setting: str
    variant: float | None = None
    seed: int | None = None
    probe: str | None = None
    reason: str


class ProbingTiming(BaseModel):
    """Wall time of one run by phase (seconds)."""

    activations_s: float = Field(description="Model passes (0 when all came from the cache).")
    encode_s: float = Field(
        description="SAE encoding of the cached activations and latent ranking."
    )
    probes_s: float = Field(description="Fitting every probe (SAE and baselines).")
    n_activation_files_cached: int
    n_activation_files_computed: int
    n_baselines_cached: int = Field(description="Baseline probes reused from an earlier run.")
    n_probe_fits: int = Field(description="Probe jobs fitted in this run.")
    workers: int
    fit_s_by_probe: dict[str, float] = Field(
        default_factory=dict,
        description="Worker seconds fitting each kind of probe ('sae': all k of the SAE "
        "probes; else a baseline method), summed over jobs; baselines reused from an earlier "
        "run cost nothing and are not counted.",
    )
