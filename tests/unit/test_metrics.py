import math

import pytest
from sklearn.metrics import roc_auc_score

from sae_interp.scorers.metrics import (
    accuracy,
    auroc,
    balanced_accuracy,
    confusion,
    f1,
    pearson,
    precision,
    recall,
    recall_by_group,
)

LABELS = [1, 1, 1, 0, 0, 0, 0, 0]
PREDS = [1, 1, 0, 1, 0, 0, 0, 0]  # tp=2 fn=1 fp=1 tn=4


def test_confusion_and_rates_by_hand() -> None:
    assert confusion(LABELS, PREDS) == (2, 1, 4, 1)
    assert precision(LABELS, PREDS) == pytest.approx(2 / 3)
    assert recall(LABELS, PREDS) == pytest.approx(2 / 3)
    assert f1(LABELS, PREDS) == pytest.approx(2 / 3)
    assert accuracy(LABELS, PREDS) == pytest.approx(6 / 8)
    assert balanced_accuracy(LABELS, PREDS) == pytest.approx((2 / 3 + 4 / 5) / 2)


def test_undefined_metrics_are_nan() -> None:
    assert math.isnan(precision([1, 0], [0, 0]))
    assert math.isnan(balanced_accuracy([1, 1], [1, 0]))
    assert math.isnan(auroc([1, 1], [0.2, 0.9]))
    assert math.isnan(pearson([1, 1, 1], [1, 2, 3]))
    with pytest.raises(ValueError):
        f1([1, 0], [1])


def test_auroc_by_hand_and_against_sklearn() -> None:
    assert auroc([1, 0], [0.9, 0.1]) == 1.0
    assert auroc([1, 0], [0.1, 0.9]) == 0.0
    assert auroc([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5]) == 0.5  # ties count half
    # pairs (pos, neg): (.8,.3) (.8,.6) (.4,.3) (.4,.6) -> 3 of 4 ordered correctly
    assert auroc([1, 1, 0, 0], [0.8, 0.4, 0.3, 0.6]) == 0.75
    scores = [0.1, 0.4, 0.4, 0.35, 0.8, 0.2, 0.9, 0.4]
    assert auroc(LABELS, scores) == pytest.approx(roc_auc_score(LABELS, scores))


def test_pearson_and_group_recall() -> None:
    assert pearson([0, 1, 2, 3], [0, 2, 4, 6]) == pytest.approx(1.0)
    assert pearson([0, 1, 2, 3], [3, 2, 1, 0]) == pytest.approx(-1.0)
    groups = [0, 0, 1, None, None, None, None, None]
    assert recall_by_group(LABELS, PREDS, groups) == {0: 1.0, 1: 0.0}
