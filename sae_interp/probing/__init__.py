"""Sparse probing on the sae-probes binary classification tasks: datasets read offline from
the sae-probes wheel, the five settings' splits, pooled activations cached per (model, hook,
dataset), latent ranking, probes and pooled metrics. The eval is
:mod:`sae_interp.evals.sparse_probing`."""

from sae_interp.probing.datasets import (
    QUICK_DATASETS,
    DatasetInfo,
    ProbingDataset,
    dataset_infos,
    load_dataset,
    register_dataset,
    select_datasets,
)
from sae_interp.probing.run import ProbingOptions, ProbingRun, probe_arrays, run_probing

__all__ = [
    "QUICK_DATASETS",
    "DatasetInfo",
    "ProbingDataset",
    "ProbingOptions",
    "ProbingRun",
    "dataset_infos",
    "load_dataset",
    "probe_arrays",
    "register_dataset",
    "run_probing",
    "select_datasets",
]
