"""Probes: sae-probes' own training functions, behind one registry.

Baselines on raw activations are the methods of sae-probes' ``run_baselines`` (logistic
regression with its C chosen on a validation split, PCA + logistic regression, kNN, XGBoost,
MLP); SAE probes are its ``find_best_reg`` on the k selected latents, with an L1 or L2
penalty, exactly as its ``run_sae_eval`` fits them. Latents are ranked by the class-mean
difference of (by default) mean-normalised latents with its ``get_sorted_indices``.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from sae_interp.base.registry import Registry


@dataclass(frozen=True)
class ProbeScores:
    """sae-probes' metrics of one probe (F1 is its class-weighted F1)."""

    test_auc: float
    test_acc: float
    test_f1: float
    val_auc: float


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """sae-probes caps iterations; its convergence warnings would flood the log."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        # sae-probes passes penalty="l1", which newer scikit-learn flags as deprecated
        warnings.filterwarnings("ignore", message="Inconsistent values: penalty")
        warnings.filterwarnings("ignore", message=".*'penalty' was deprecated")
        yield


def _t(x: np.ndarray) -> torch.Tensor:
    """Features as the torch tensors sae-probes hands to scikit-learn: its solvers do not
    round a tensor's conversion exactly as a float32 numpy array, so the exact numbers
    depend on it."""
    return torch.from_numpy(np.ascontiguousarray(x))


def fit_baseline(
    method: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    seed: int,
    *,
    solver: str = "sklearn",
    device: str | None = None,
) -> ProbeScores:
    """A baseline probe on raw activations (``method`` from :data:`BASELINES`; the
    logistic-regression baseline is solved by ``solver``, see :data:`LOGREG_SOLVERS`)."""
    arrays = (x_train, y_train, x_test, y_test)
    return BASELINES.get(method)(arrays, seed, solver, device)


def fit_logreg(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    penalty: str,
    seed: int,
    solver: str = "sklearn",
    device: str | None = None,
) -> ProbeScores:
    """sae-probes' ``find_best_reg``: C from 10 values on a log grid, chosen by validation
    AUC (leave-2-out, 6-fold or one held-out slice, by training size), each regression
    solved by ``solver`` (:data:`LOGREG_SOLVERS`)."""
    arrays = (x_train, y_train, x_test, y_test)
    return LOGREG_SOLVERS.get(solver)(arrays, penalty, seed, device)


ProbeArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # x/y train, x/y test


def _logreg_sklearn(
    arrays: ProbeArrays, penalty: str, seed: int, device: str | None
) -> ProbeScores:
    """sae-probes' own function (scikit-learn on the CPU; ``device`` is not used)."""
    from sae_probes.utils_training import find_best_reg

    x_train, y_train, x_test, y_test = arrays
    with _quiet():
        result = find_best_reg(
            _t(x_train),
            torch.as_tensor(y_train),
            _t(x_test),
            torch.as_tensor(y_test),
            n_jobs=1,
            parallel=False,
            penalty=penalty,
            seed=seed,
        )
    m = result.metrics
    return ProbeScores(m.test_auc, m.test_acc, m.test_f1, m.val_auc)


def _logreg_torch(arrays: ProbeArrays, penalty: str, seed: int, device: str | None) -> ProbeScores:
    """The same model selection with batched Newton solves in torch (GPU when available)."""
    from sae_interp.probing.torch_logreg import find_best_reg_torch

    if penalty != "l2":
        raise ValueError(f"the torch probe solver fits L2 probes only, not penalty {penalty!r}")
    return ProbeScores(*find_best_reg_torch(*arrays, seed=seed, device=device))


LOGREG_SOLVERS: Registry[Callable[..., ProbeScores]] = Registry("probe solver")
LOGREG_SOLVERS.register("sklearn", _logreg_sklearn)
LOGREG_SOLVERS.register("torch", _logreg_torch)


def _logreg_baseline(
    arrays: ProbeArrays, seed: int, solver: str, device: str | None
) -> ProbeScores:
    """sae-probes' ``logreg`` baseline is ``find_best_reg`` (L2) on the raw activations."""
    return LOGREG_SOLVERS.get(solver)(arrays, "l2", seed, device)


def _sae_probes_baseline(name: str) -> Callable[..., ProbeScores]:
    """sae-probes' own baseline method ``name`` (CPU; ``solver`` and ``device`` unused)."""

    def fit(arrays: ProbeArrays, seed: int, solver: str, device: str | None) -> ProbeScores:
        from sae_probes.run_baselines import METHODS

        x_train, y_train, x_test, y_test = arrays
        with _quiet():
            result = METHODS[name](_t(x_train), y_train, _t(x_test), y_test, seed=seed)
        m = result.metrics
        return ProbeScores(m.test_auc, m.test_acc, m.test_f1, m.val_auc)

    return fit


BASELINES: Registry[Callable[..., ProbeScores]] = Registry("probing baseline")
BASELINES.register("logreg", _logreg_baseline)
for _name in ("pca", "knn", "xgboost", "mlp"):
    BASELINES.register(_name, _sae_probes_baseline(_name))


def rank_latents(
    latents_train: np.ndarray, y_train: np.ndarray, normalize: bool = True
) -> np.ndarray:
    """Latents ordered by |mean over positives - mean over negatives| of the training rows
    (after sae-probes' mean-activation normalisation unless ``normalize`` is false)."""
    from sae_probes.run_sae_evals import get_sorted_indices, mean_act_normalization

    order = get_sorted_indices(
        torch.from_numpy(np.ascontiguousarray(latents_train)),
        torch.from_numpy(np.asarray(y_train)),
        mean_act_normalization if normalize else None,
    )
    return order.numpy()


def effective_ks(ks: Sequence[int], n_latents: int) -> list[int]:
    """The k values run for an SAE with ``n_latents`` latents: k above the width becomes
    the width ("all latents"), duplicates dropped, order kept."""
    out: list[int] = []
    for k in ks:
        k = min(int(k), n_latents)
        if k not in out:
            out.append(k)
    return out


def fit_sparse_probes(
    x_train_sel: np.ndarray,
    y_train: np.ndarray,
    x_test_sel: np.ndarray,
    y_test: np.ndarray,
    ks: Sequence[int],
    *,
    penalty: str,
    seed: int,
    binarize: bool = False,
    solver: str = "sklearn",
    device: str | None = None,
) -> list[ProbeScores]:
    """One probe per k on the first k columns (latents already in ranked order)."""
    scores = []
    for k in ks:
        tr, te = x_train_sel[:, :k], x_test_sel[:, :k]
        if binarize:
            tr, te = tr != 0, te != 0
        scores.append(
            fit_logreg(
                tr, y_train, te, y_test, penalty=penalty, seed=seed, solver=solver, device=device
            )
        )
    return scores
