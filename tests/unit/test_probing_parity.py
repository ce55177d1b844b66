"""Parity with sae-probes' own entry points: on the same activations, the same dataset and
seed, our splits, latent ranking and probes give the numbers sae-probes writes."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from sae_interp.probing.datasets import load_dataset
from sae_interp.probing.run import ProbingOptions, probe_arrays
from sae_interp.testing import make_tiny_sae

DATASET = "117_us_state_FL"  # 1000 rows: small enough for a unit test
MODEL = "parity-model"
HOOK = "blocks.0.hook_resid_post"
SEED = 42
TOL = 1e-6


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, torch.Tensor, np.ndarray]:
    """Synthetic activations with a class signal, stored where sae-probes looks for them."""
    root = tmp_path_factory.mktemp("sae_probes")
    y = load_dataset(DATASET).labels
    gen = torch.Generator().manual_seed(0)
    acts = torch.randn(len(y), 16, generator=gen)
    acts[:, :3] += 0.7 * torch.from_numpy(y).float()[:, None] * torch.tensor([1.0, -1.0, 0.5])
    directory = root / "cache" / f"model_activations_{MODEL}"
    directory.mkdir(parents=True)
    torch.save(acts, directory / f"{DATASET}_{HOOK}.pt")
    return root, acts, y


def _sae():  # type: ignore[no-untyped-def]
    return make_tiny_sae("relu", d_in=16, d_sae=48, hook_name=HOOK, k=None, seed=3)


def _assert_same(ours, theirs: dict) -> None:  # type: ignore[no-untyped-def]
    for name in ("test_auc", "test_acc", "test_f1", "val_auc"):
        assert getattr(ours, name) == pytest.approx(theirs[name], abs=TOL), name


def test_sae_probes_match_run_sae_eval_in_three_settings(shared) -> None:  # type: ignore[no-untyped-def]
    from sae_probes.run_sae_evals import get_save_metrics_path, run_sae_eval

    root, acts, y = shared
    sae = _sae()
    cases = [
        ("normal", {}, (1, 4, 16)),
        ("scarcity", {"num_train": 64}, (4,)),
        ("imbalance", {"frac": 0.25}, (2, 8)),
    ]
    for setting, extra, ks in cases:
        run_sae_eval(
            sae=sae, dataset=DATASET, hook_name=HOOK, reg_type="l2", setting=setting,
            model_name=MODEL, model_cache_path=root / "cache", ks=list(ks),
            results_path=root / "results", device="cpu", seed=SEED, **extra,
        )  # fmt: skip
        path = get_save_metrics_path(
            dataset=DATASET, hook_name=HOOK, reg_type="l2", model_name=MODEL,
            sae_results_path=root / "results", setting=setting, **extra,
        )  # fmt: skip
        theirs = json.loads(path.read_text())
        variant = tuple(float(v) for v in extra.values())
        opts = ProbingOptions(setting=setting, variants=variant, seeds=(SEED,), ks=ks, baselines=())
        run = probe_arrays(DATASET, sae, acts, y, opts)
        assert not run.skips
        assert [r.k for r in run.records] == [t["k"] for t in theirs]
        for ours, t in zip(run.records, theirs, strict=True):
            assert ours.latents == t["indices"]
            _assert_same(ours, t)


def test_baselines_match_run_baselines_normal_and_corrupt(shared) -> None:  # type: ignore[no-untyped-def]
    from sae_probes.run_baselines import (
        get_baseline_save_path,
        run_baseline_corrupt,
        run_baseline_dataset_layer,
    )

    root, acts, y = shared
    kw = {"model_name": MODEL, "model_cache_path": root / "cache", "results_path": root / "res"}
    for method in ("logreg", "pca"):
        run_baseline_dataset_layer(HOOK, DATASET, method, seed=SEED, **kw)  # type: ignore[arg-type]
        path = get_baseline_save_path(DATASET, HOOK, method, MODEL, root / "res")  # type: ignore[arg-type]
        (theirs,) = json.loads(path.read_text())
        opts = ProbingOptions(seeds=(SEED,), ks=(1,), baselines=(method,))
        run = probe_arrays(DATASET, _sae(), acts, y, opts)
        (ours,) = [r for r in run.records if r.probe == method]
        assert ours.n_train == theirs["num_train"]
        _assert_same(ours, theirs)

    run_baseline_corrupt(0.2, DATASET, "logreg", hook_name=HOOK, seed=SEED, **kw)  # type: ignore[arg-type]
    csv = (
        root
        / "res"
        / f"baseline_results_{MODEL}/corrupt/allruns/{HOOK}_{DATASET}_logreg_corrupt0.2.csv"
    )
    theirs = pd.read_csv(csv).iloc[0].to_dict()
    opts = ProbingOptions(setting="corruption", variants=(0.2,), seeds=(SEED,), ks=(1,))
    run = probe_arrays(DATASET, _sae(), acts, y, opts)
    (ours,) = [r for r in run.records if r.probe == "logreg"]
    _assert_same(ours, theirs)
