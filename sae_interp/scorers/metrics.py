"""Pure metric functions for binary judgements (no LLM, no I/O). Each returns nan when
undefined instead of guessing (e.g. AUROC with only one class present)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def _arrays(labels: Sequence[int], preds: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels, dtype=np.int64)
    p = np.asarray(preds, dtype=np.float64)
    if y.shape != p.shape:
        raise ValueError(f"labels and predictions differ in length: {y.shape} vs {p.shape}")
    return y, p


def confusion(labels: Sequence[int], preds: Sequence[int]) -> tuple[int, int, int, int]:
    """(true positives, false positives, true negatives, false negatives)."""
    y, p = _arrays(labels, preds)
    p = p.astype(np.int64)
    return (
        int(((p == 1) & (y == 1)).sum()),
        int(((p == 1) & (y == 0)).sum()),
        int(((p == 0) & (y == 0)).sum()),
        int(((p == 0) & (y == 1)).sum()),
    )


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def precision(labels: Sequence[int], preds: Sequence[int]) -> float:
    tp, fp, _, _ = confusion(labels, preds)
    return _ratio(tp, tp + fp)


def recall(labels: Sequence[int], preds: Sequence[int]) -> float:
    tp, _, _, fn = confusion(labels, preds)
    return _ratio(tp, tp + fn)


def f1(labels: Sequence[int], preds: Sequence[int]) -> float:
    tp, fp, _, fn = confusion(labels, preds)
    return _ratio(2 * tp, 2 * tp + fp + fn)


def accuracy(labels: Sequence[int], preds: Sequence[int]) -> float:
    tp, fp, tn, fn = confusion(labels, preds)
    return _ratio(tp + tn, tp + fp + tn + fn)


def balanced_accuracy(labels: Sequence[int], preds: Sequence[int]) -> float:
    """(TPR + TNR) / 2; nan unless both classes are present."""
    tp, fp, tn, fn = confusion(labels, preds)
    return (_ratio(tp, tp + fn) + _ratio(tn, tn + fp)) / 2


def auroc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Area under the ROC curve (Mann-Whitney U with ties counted half)."""
    y, s = _arrays(labels, scores)
    pos, neg = s[y == 1], s[y == 0]
    if len(pos) == 0 or len(neg) == 0:
        return math.nan
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order), dtype=np.float64)
    values = np.concatenate([pos, neg])[order]
    i = 0
    while i < len(values):  # average ranks over ties
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if a.shape != b.shape or len(a) < 2 or a.std() == 0 or b.std() == 0:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


def recall_by_group(
    labels: Sequence[int], preds: Sequence[int], groups: Sequence[int | None]
) -> dict[int, float]:
    """Recall of the positives in each group (e.g. activation quantile bin)."""
    out: dict[int, float] = {}
    for group in sorted(
        {g for g, y in zip(groups, labels, strict=True) if g is not None and y == 1}
    ):
        idx = [i for i, g in enumerate(groups) if g == group and labels[i] == 1]
        out[group] = recall([labels[i] for i in idx], [preds[i] for i in idx])
    return out
