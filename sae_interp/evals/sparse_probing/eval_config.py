"""Configuration of the sparse probing eval (the sae-probes binary classification tasks)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from sae_interp.framework.config import BaseEvalConfig
from sae_interp.probing.datasets import select_datasets
from sae_interp.probing.probes import BASELINES, LOGREG_SOLVERS


class SparseProbingEvalConfig(BaseEvalConfig):
    """Sparse probing: k-sparse probes on SAE latents vs probes on the raw activations, on
    the binary classification tasks shipped by sae-probes."""

    eval_type_id: ClassVar[str] = "sparse_probing"
    RUN_CONTROL_FIELDS: ClassVar[frozenset[str]] = BaseEvalConfig.RUN_CONTROL_FIELDS | {
        "workers",
        "list_datasets",
        "probe_device",
    }

    datasets: list[str] = Field(
        default_factory=list,
        description=(
            "Dataset names (sae-probes' numbered tags, e.g. 87_glue_cola); with no names, "
            "categories or --quick, every dataset. --list-datasets shows them."
        ),
    )
    categories: list[str] = Field(
        default_factory=list, description="Add every dataset of these categories."
    )
    quick: bool = Field(
        default=False,
        description="Add the quick subset: 10 datasets of short prompts (minutes on a CPU).",
    )
    setting: Literal["normal", "scarcity", "imbalance", "corruption", "ood"] = Field(
        default="normal",
        description=(
            "sae-probes setting: normal; scarcity (few training rows); imbalance (positive "
            "fraction); corruption (flipped training labels); ood (shipped OOD test sets)."
        ),
    )
    variants: list[float] | None = Field(
        default=None,
        description=(
            "Training sizes (scarcity), positive fractions (imbalance) or flipped fractions "
            "(corruption); default: sae-probes' grid."
        ),
    )
    split_seeds: list[int] | None = Field(
        default=None,
        description="Seeds of the train/test splits (and the probes); several give the "
        "seed-to-seed spread (default: --seed).",
    )
    ks: list[int] = Field(
        default_factory=lambda: [1, 2, 4, 8, 16, 32, 64, 128],
        min_length=1,
        description="Latents per SAE probe; a k above the SAE's width means all latents.",
    )
    penalty: Literal["l1", "l2"] = Field(
        default="l2", description="Penalty of the SAE probes' logistic regression."
    )
    baselines: list[str] = Field(
        default_factory=lambda: ["logreg"],
        description="Baselines on raw activations: logreg, pca, knn, xgboost, mlp.",
    )
    solver: str = Field(
        default="sklearn",
        description=(
            "Solver of the L2 logistic regressions (SAE probes and the logreg baseline): "
            "sklearn (sae-probes' own function, CPU) or torch (batched Newton, the same C "
            "selection; for a GPU)."
        ),
    )
    probe_device: str | None = Field(
        default=None,
        description="Device of the torch solver (default: cuda when available, else cpu).",
    )
    binarize: bool = Field(
        default=False, description="Probe on latent presence (non-zero) in the normal setting."
    )
    normalize_ranking: bool = Field(
        default=True,
        description="Rank latents on mean-activation-normalised latents (sae-probes default).",
    )
    pooling: Literal["last", "mean"] = Field(
        default="last", description="Activation per prompt: its last token, or the mean."
    )
    max_seq_len: int = Field(
        default=1024, gt=1, description="Prompts keep their BOS and last tokens up to this."
    )
    max_examples: int = Field(
        default=5000,
        gt=100,
        description="Rows per dataset (at most 5000 in every shipped one); a smaller cap keeps a fixed random subset.",
    )
    tolerance: float = Field(
        default=0.01,
        ge=0,
        description="An SAE probe matches the baseline when its AUC is at most this lower.",
    )
    workers: int = Field(default=1, description="Parallel probe jobs (processes; -1 = all).")
    list_datasets: bool = Field(
        default=False, description="Print the selected datasets with their sizes and exit."
    )

    @field_validator("baselines")
    @classmethod
    def _known_baselines(cls, value: list[str]) -> list[str]:
        return [BASELINES.validate(name) for name in value]

    @field_validator("solver")
    @classmethod
    def _known_solver(cls, value: str) -> str:
        return LOGREG_SOLVERS.validate(value)

    @model_validator(mode="after")
    def _known_datasets(self) -> SparseProbingEvalConfig:
        select_datasets(self.datasets, self.categories, self.quick)
        return self

    @model_validator(mode="after")
    def _solver_fits_the_penalty(self) -> SparseProbingEvalConfig:
        if self.solver == "torch" and self.penalty != "l2":
            raise ValueError("--solver torch fits L2 probes only; use --penalty l2")
        return self

    def dataset_names(self) -> list[str]:
        return select_datasets(self.datasets, self.categories, self.quick)

    def split_seed_list(self) -> list[int]:
        """The split seeds a run draws: ``--split-seeds``, else the run's ``--seed``."""
        return list(self.split_seeds) if self.split_seeds else [self.seed]
