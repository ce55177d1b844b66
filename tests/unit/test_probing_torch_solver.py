"""The torch solver of L2 probes: the converged optimum of scikit-learn's objective, and the
model selection of sae-probes' ``find_best_reg`` (on the CPU here; the same code runs on a
GPU)."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from sae_interp.evals.sparse_probing.eval_config import SparseProbingEvalConfig
from sae_interp.probing.probes import fit_baseline, fit_logreg, fit_sparse_probes
from sae_interp.probing.torch_logreg import fit_logreg_path, resolve_device


def _problem(n: int, d: int, noise: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = (x @ rng.normal(size=d) + noise * rng.normal(size=n) > 0).astype(np.int64)
    return x, y


def test_every_c_reaches_scikit_learns_optimum() -> None:
    """Each C of the batch solves 0.5|w|^2 + C * sum(logloss), intercept unpenalised: the
    weights equal scikit-learn's, converged tightly in float64, to 1e-5."""
    x, y = _problem(300, 12, noise=2.0)
    cs = [1e3, 1.0, 1e-2, 1e-4]
    w, b = fit_logreg_path(torch.from_numpy(x), torch.from_numpy(y), cs)
    assert w.shape == (4, 12) and b.shape == (4,)
    for j, c in enumerate(cs):
        ref = LogisticRegression(C=c, tol=1e-12, max_iter=100_000).fit(x.astype(np.float64), y)
        assert np.abs(ref.coef_[0] - w[j].numpy()).max() < 1e-5
        assert abs(ref.intercept_[0] - b[j].item()) < 1e-5
    # more regularisation, smaller weights
    norms = w.norm(dim=1)
    assert bool((norms[:-1] > norms[1:]).all())


def test_separable_rows_stay_finite_at_the_largest_c() -> None:
    y = np.tile([0, 1], 20)
    x = np.stack([y * 2.0 - 1.0, np.zeros(40)], axis=1).astype(np.float32)
    w, b = fit_logreg_path(torch.from_numpy(x), torch.from_numpy(y), [1e5])
    assert bool(torch.isfinite(w).all() and torch.isfinite(b).all()) and w[0, 0].item() > 1.0


@pytest.mark.parametrize("n", [10, 100, 400])  # sae-probes' leave-2-out, 6-fold, held-out
def test_model_selection_matches_sae_probes_on_a_well_posed_problem(n: int) -> None:
    """Where scikit-learn's lbfgs converges (more rows than features, noisy labels) both
    solvers choose C alike and report the same metrics, through each of sae-probes'
    validation schemes."""
    x, y = _problem(n + 200, 6, noise=1.5, seed=n)
    tr, te = slice(0, n), slice(n, n + 200)
    ref = fit_logreg(x[tr], y[tr], x[te], y[te], penalty="l2", seed=3)
    got = fit_logreg(x[tr], y[tr], x[te], y[te], penalty="l2", seed=3, solver="torch")
    assert got.val_auc == pytest.approx(ref.val_auc, abs=2e-3)
    assert got.test_auc == pytest.approx(ref.test_auc, abs=2e-3)
    assert got.test_acc == pytest.approx(ref.test_acc, abs=0.011)


def test_solver_reaches_the_logreg_baseline_and_binarised_sae_probes() -> None:
    x, y = _problem(500, 8, noise=0.5)
    base = fit_baseline("logreg", x[:300], y[:300], x[300:], y[300:], seed=0, solver="torch")
    assert base.test_auc > 0.95
    bits = (x > 0).astype(np.float32)
    probes = fit_sparse_probes(
        bits[:300],
        y[:300],
        bits[300:],
        y[300:],
        [1, 8],
        penalty="l2",
        seed=0,
        binarize=True,
        solver="torch",
    )
    assert probes[0].test_auc < probes[1].test_auc


def test_bad_solver_settings_are_refused_in_one_sentence() -> None:
    with pytest.raises(ValueError, match="unknown probe solver 'cuml'; known: sklearn, torch"):
        SparseProbingEvalConfig(solver="cuml")
    with pytest.raises(ValueError, match="--solver torch fits L2 probes only"):
        SparseProbingEvalConfig(solver="torch", penalty="l1")
    x, y = _problem(50, 3, noise=1.0)
    with pytest.raises(ValueError, match="L2 probes only"):
        fit_logreg(x, y, x, y, penalty="l1", seed=0, solver="torch")


def test_device_defaults_to_the_gpu_only_when_there_is_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device(None).type == "cuda" == resolve_device("auto").type
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device(None).type == "cpu" == resolve_device("auto").type
    assert resolve_device("cpu").type == "cpu"
