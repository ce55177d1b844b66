"""Train/test splits of the five sae-probes settings, as row indices into a dataset.

Every split is drawn with sae-probes' own ``get_train_test_indices`` (class-stratified
sampling without replacement from a seeded ``RandomState``), with the sizes its run
functions use:

- ``normal``: ``min(n - 100, 1024)`` training rows, half positive; every other row but one
  is a test row, half positive where the classes allow.
- ``scarcity``: the same with each training size (skipped when it leaves < 100 test rows).
- ``imbalance``: the training and test sizes of ``get_classimabalance_num_train`` with each
  positive fraction, in training and test alike.
- ``corruption``: the ``normal`` split with a fraction of training labels flipped
  (``corrupt_ytrain``).
- ``ood``: 1024 balanced training rows from the first 1500, tested on the shipped
  out-of-distribution set.

A setting that cannot be drawn for a dataset returns a skip reason instead of a split.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sae_interp.base.registry import Registry

OOD_TRAIN_ROWS = 1500  # sae-probes trains OOD probes on the first 1500 rows
MIN_TEST = 100


@dataclass
class Split:
    """One train/test split. ``test_idx`` indexes the OOD set when ``ood`` is true;
    ``y_train`` may differ from the true labels (label corruption)."""

    setting: str
    variant: float | None  # training size, positive fraction or corrupted fraction
    seed: int
    train_idx: np.ndarray
    test_idx: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    ood: bool = False


@dataclass
class Skip:
    setting: str
    variant: float | None
    reason: str


SplitFn = Callable[[np.ndarray, "np.ndarray | None", Sequence[float], int], list["Split | Skip"]]
SETTINGS: Registry[SplitFn] = Registry("probing setting")


def default_variants(setting: str) -> list[float]:
    """sae-probes' grid for ``setting`` (training sizes, positive or corrupted fractions)."""
    from sae_probes.utils_data import get_class_imbalance, get_corrupt_frac, get_training_sizes

    grids: dict[str, Callable[[], list[float]]] = {
        "scarcity": lambda: [float(s) for s in get_training_sizes()],
        "imbalance": get_class_imbalance,
        "corruption": get_corrupt_frac,
    }
    return [round(v, 4) for v in grids[setting]()] if setting in grids else []


def draw(
    y: np.ndarray, num_train: int, num_test: int, pos_ratio: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """sae-probes' stratified draw (``get_train_test_indices``)."""
    from sae_probes.utils_data import get_train_test_indices

    train, test = get_train_test_indices(y, num_train, num_test, pos_ratio, seed)
    return np.asarray(train, dtype=np.int64), np.asarray(test, dtype=np.int64)


def _specified(
    setting: str,
    variant: float | None,
    y: np.ndarray,
    num_train: int,
    seed: int,
    *,
    pos_ratio: float = 0.5,
    num_test: int | None = None,
) -> Split | Skip:
    """``get_xy_traintest_specify`` on labels: its size check, then the stratified draw."""
    n = len(y)
    if num_test is None:
        num_test = n - num_train - 1
    if num_train + min(MIN_TEST, num_test) > n:
        return Skip(setting, variant, f"needs {num_train + MIN_TEST} rows, has {n}")
    try:
        train, test = draw(y, num_train, num_test, pos_ratio, seed)
    except ValueError:
        return Skip(
            setting,
            variant,
            f"too few rows of one class for {num_train} train / {num_test} test rows "
            f"at positive fraction {pos_ratio:g} ({int(y.sum())} positive of {n})",
        )
    return Split(setting, variant, seed, train, test, y[train], y[test])


def normal_num_train(n: int) -> int:
    return min(n - MIN_TEST, 1024)


@SETTINGS.decorator("normal")
def normal_splits(
    y: np.ndarray, y_ood: np.ndarray | None, variants: Sequence[float], seed: int
) -> list[Split | Skip]:
    return [_specified("normal", None, y, normal_num_train(len(y)), seed)]


@SETTINGS.decorator("scarcity")
def scarcity_splits(
    y: np.ndarray, y_ood: np.ndarray | None, variants: Sequence[float], seed: int
) -> list[Split | Skip]:
    out: list[Split | Skip] = []
    for size in variants:
        if size > len(y) - MIN_TEST:
            out.append(Skip("scarcity", size, f"{int(size)} training rows leave < 100 test rows"))
        else:
            out.append(_specified("scarcity", size, y, int(size), seed))
    return out


def imbalance_sizes(
    y: np.ndarray, fracs: Sequence[float], min_num_test: int = MIN_TEST
) -> tuple[int, int]:
    """Training and test sizes that every positive fraction in ``fracs`` can draw
    (the rule of sae-probes' ``get_classimabalance_num_train``)."""
    lo, hi = min(fracs), max(fracs)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    max_total = int(min(n_neg / (1 - lo), n_pos / hi))
    num_train = min(max_total - min_num_test, 1024)
    return num_train, max(MIN_TEST, max_total - num_train - 1)


@SETTINGS.decorator("imbalance")
def imbalance_splits(
    y: np.ndarray, y_ood: np.ndarray | None, variants: Sequence[float], seed: int
) -> list[Split | Skip]:
    from sae_probes.utils_data import get_class_imbalance

    # sizes from sae-probes' full fraction grid, so they do not depend on the fractions run
    num_train, num_test = imbalance_sizes(y, get_class_imbalance())
    if num_train < 2:
        return [Skip("imbalance", f, "too few rows for the imbalance grid") for f in variants]
    return [
        _specified("imbalance", f, y, num_train, seed, pos_ratio=f, num_test=num_test)
        for f in variants
    ]


@SETTINGS.decorator("corruption")
def corruption_splits(
    y: np.ndarray, y_ood: np.ndarray | None, variants: Sequence[float], seed: int
) -> list[Split | Skip]:
    from sae_probes.utils_data import corrupt_ytrain

    base = _specified("corruption", None, y, normal_num_train(len(y)), seed)
    out: list[Split | Skip] = []
    for frac in variants:
        if isinstance(base, Skip):
            out.append(Skip("corruption", frac, base.reason))
            continue
        corrupted = np.asarray(corrupt_ytrain(base.y_train, frac, seed=seed), dtype=np.int64)
        out.append(
            Split("corruption", frac, seed, base.train_idx, base.test_idx, corrupted, base.y_test)
        )
    return out


@SETTINGS.decorator("ood")
def ood_splits(
    y: np.ndarray, y_ood: np.ndarray | None, variants: Sequence[float], seed: int
) -> list[Split | Skip]:
    if y_ood is None:
        return [Skip("ood", None, "the sae-probes wheel ships no OOD test set for it")]
    split = _specified("ood", None, y[:OOD_TRAIN_ROWS], 1024, seed, num_test=0)
    if isinstance(split, Skip):
        return [split]
    test = np.arange(len(y_ood), dtype=np.int64)
    return [Split("ood", None, seed, split.train_idx, test, split.y_train, y_ood, ood=True)]


def make_splits(
    setting: str,
    y: np.ndarray,
    y_ood: np.ndarray | None,
    variants: Sequence[float],
    seeds: Sequence[int],
) -> list[Split | Skip]:
    """Every split of ``setting`` for every seed (a single-class dataset is one skip)."""
    if len(np.unique(y)) < 2:
        return [Skip(setting, None, "only one class")]
    fn = SETTINGS.get(setting)
    return [item for seed in seeds for item in fn(y, y_ood, variants, seed)]
