"""L2 logistic-regression probes in torch: the same model selection as sae-probes'
``find_best_reg``, with the regressions solved by a batched Newton method that runs on a GPU.

sae-probes fits each value of C (10 on a log grid from 1e5 to 1e-5) on each validation fold
with scikit-learn's lbfgs, one after another, then refits the best C on all training rows.
Here the 10 values of C of one fold are solved together: every Newton step is one batched
matrix product and one batched solve, which is what a GPU is good at. The validation folds
are sae-probes' own (``get_cv`` / ``get_splits``), so the C chosen and the metrics reported
are those of sae-probes up to the solvers' precision: scikit-learn stops lbfgs at a gradient
tolerance of 1e-4 or after 1000 iterations, Newton here runs in float64 to a much tighter
optimum, so on nearly separable data with a large C the two can differ slightly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

C_GRID: tuple[float, ...] = tuple(float(c) for c in np.logspace(5, -5, 10))
DEFAULT_C = 1.0


def resolve_device(device: str | None) -> torch.device:
    """``None`` or "auto": the GPU when torch sees one, else the CPU."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _objective(
    theta: torch.Tensor, xa: torch.Tensor, y: torch.Tensor, reg: torch.Tensor
) -> torch.Tensor:
    """Per problem: 0.5 * sum(reg * theta^2) + sum of the log losses (theta: m x (d + 1))."""
    z = xa @ theta.T  # n x m
    loss = torch.nn.functional.softplus(z) - y[:, None] * z
    return 0.5 * (reg * theta.square()).sum(dim=1) + loss.sum(dim=0)


def fit_logreg_path(
    x: torch.Tensor,
    y: torch.Tensor,
    cs: Sequence[float],
    *,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One L2 logistic regression per value of C on the same rows, solved together.

    Minimises ``0.5 * |w|^2 + C * sum_i logloss(y_i, x_i . w + b)`` (scikit-learn's
    objective; the intercept ``b`` is not penalised), divided by C so that every problem's
    loss term has the same scale. Damped Newton: each step solves the Hessian system of
    every C at once, with a backtracking line search per problem; a problem stops when its
    Newton decrement is below ``tol``. Returns the weights (len(cs) x d) and intercepts."""
    n, d = x.shape
    dtype, device = torch.float64, x.device
    xa = torch.cat([x.to(dtype), torch.ones(n, 1, dtype=dtype, device=device)], dim=1)
    yf = y.to(dtype)
    m = len(cs)
    inv_c = torch.tensor([1.0 / c for c in cs], dtype=dtype, device=device)
    reg = inv_c[:, None] * torch.cat([torch.ones(d), torch.zeros(1)]).to(dtype).to(device)
    theta = torch.zeros(m, d + 1, dtype=dtype, device=device)
    eye = torch.eye(d + 1, dtype=dtype, device=device)
    active = torch.ones(m, dtype=torch.bool, device=device)
    f = _objective(theta, xa, yf, reg)
    for _ in range(max_iter):
        z = xa @ theta.T
        p = torch.sigmoid(z)
        grad = reg * theta + (p - yf[:, None]).T @ xa  # m x (d + 1)
        s = (p * (1 - p)).T  # m x n
        hess = torch.einsum("mn,ni,nj->mij", s, xa, xa) + torch.diag_embed(reg)
        hess = hess + 1e-12 * eye  # keeps the intercept's row solvable when p saturates
        step = torch.linalg.solve(hess, grad.unsqueeze(-1)).squeeze(-1)
        decrement = (grad * step).sum(dim=1)
        active = active & (decrement / 2 > tol)
        if not bool(active.any()):
            break
        t = torch.ones(m, dtype=dtype, device=device)
        accepted = ~active
        new_theta = theta.clone()
        new_f = f.clone()
        for _ in range(40):  # Armijo backtracking, per problem
            cand = theta - t[:, None] * step
            f_cand = _objective(cand, xa, yf, reg)
            ok = (~accepted) & (f_cand <= f - 0.25 * t * decrement)
            new_theta[ok] = cand[ok]
            new_f[ok] = f_cand[ok]
            accepted = accepted | ok
            if bool(accepted.all()):
                break
            t = torch.where(accepted, t, t / 2)
        stalled = ~accepted  # no decrease found: the problem is at its optimum
        active = active & ~stalled
        theta, f = new_theta, new_f
    return theta[:, :d], theta[:, d]


def _features(x: np.ndarray, device: torch.device) -> torch.Tensor:
    """Floating features keep their dtype; others (binarised latents) become float64, as
    scikit-learn converts them."""
    t = torch.as_tensor(np.ascontiguousarray(x))
    return (t if t.is_floating_point() else t.to(torch.float64)).to(device)


def _decision(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """x . w + b per row and problem, in float64."""
    return x.to(torch.float64) @ w.T + b


def _proba(decision: torch.Tensor, dtype: torch.dtype) -> np.ndarray:
    """P(class 1) from decision values, rounded to the features' ``dtype`` as
    scikit-learn's ``predict_proba`` is (float32 features saturate at 1.0 sooner, and the
    ties count in the AUC)."""
    return torch.sigmoid(decision).to(dtype).cpu().numpy()


def _fold_auc(y_val: np.ndarray, proba: np.ndarray) -> list[float]:
    return [float(roc_auc_score(y_val, proba[:, j])) for j in range(proba.shape[1])]


def find_best_reg_torch(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    seed: int,
    device: str | None = None,
) -> tuple[float, float, float, float]:
    """sae-probes' ``find_best_reg`` (L2) with the regressions solved in torch: C from
    :data:`C_GRID` by mean validation AUC over sae-probes' folds, refitted on every training
    row. Returns (test AUC, test accuracy, class-weighted test F1, validation AUC)."""
    from sae_probes.utils_training import get_cv, get_splits

    dev = resolve_device(device)
    x = _features(x_train, dev)
    y = np.asarray(y_train)
    yt = torch.as_tensor(y).to(dev)
    best_c, val_auc = DEFAULT_C, None
    if x.shape[0] > 3:
        folds = get_splits(get_cv(x_train, seed=seed), x_train, y)
        per_fold = []
        for train_idx, val_idx in folds:
            tr, va = np.asarray(train_idx), np.asarray(val_idx)
            if len(np.unique(y[tr])) < 2:
                per_fold.append([0.5] * len(C_GRID))  # sae-probes' neutral score
                continue
            w, b = fit_logreg_path(x[tr], yt[tr], C_GRID)
            per_fold.append(_fold_auc(y[va], _proba(_decision(x[va], w, b), x.dtype)))
        mean_auc = np.mean(np.asarray(per_fold), axis=0)
        best = int(np.argmax(mean_auc))
        best_c, val_auc = float(C_GRID[best]), float(mean_auc[best])
    w, b = fit_logreg_path(x, yt, [best_c])
    if val_auc is None:
        val_auc = float(roc_auc_score(y, _proba(_decision(x, w, b), x.dtype)[:, 0]))
    xt = _features(x_test, dev)
    decision = _decision(xt, w, b)
    p_test = _proba(decision, xt.dtype)[:, 0]
    pred = (decision[:, 0] > 0).cpu().numpy().astype(np.asarray(y_test).dtype)
    return (
        float(roc_auc_score(y_test, p_test)),
        float(accuracy_score(y_test, pred)),
        float(f1_score(y_test, pred, average="weighted")),
        val_auc,
    )
