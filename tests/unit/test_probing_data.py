"""Sparse probing: datasets from the sae-probes wheel and the five settings' splits."""

import math

import numpy as np
import pytest

from sae_interp.base.errors import SpecError
from sae_interp.probing.datasets import (
    QUICK_DATASETS,
    capped_rows,
    dataset_infos,
    load_dataset,
    ood_names,
    select_datasets,
)
from sae_interp.probing.splits import imbalance_sizes, make_splits


def test_the_wheel_ships_113_binary_tasks_with_categories_and_ood_sets() -> None:
    infos = {i.name: i for i in dataset_infos()}
    assert len(infos) == 113
    assert infos["87_glue_cola"].n_examples == 5000
    assert infos["117_us_state_FL"].n_examples == 1000
    assert infos["117_us_state_FL"].n_positive == 500
    assert infos["5_hist_fig_ismale"].has_ood and not infos["92_glue_sst2"].has_ood
    assert "66_living-room_translations" not in ood_names()
    assert len(ood_names()) == 8
    assert set(QUICK_DATASETS) <= set(infos)


def test_selection_by_name_category_quick_and_all() -> None:
    assert select_datasets(["92_glue_sst2", "87_glue_cola"]) == ["87_glue_cola", "92_glue_sst2"]
    phrases = select_datasets(categories_=["phrase"])
    assert len(phrases) == 21 and all("-" in name for name in phrases)
    assert set(select_datasets(quick=True)) == set(QUICK_DATASETS)
    assert len(select_datasets()) == 113


def test_unknown_names_list_the_closest_ones() -> None:
    with pytest.raises(SpecError, match="closest: 87_glue_cola"):
        select_datasets(["glue_cola"])
    with pytest.raises(SpecError, match="closest: 92_glue_sst2"):
        select_datasets(["92_glue_sst"])
    with pytest.raises(SpecError, match=r"category .phrases.*closest: phrase"):
        select_datasets(categories_=["phrases"])


def test_labels_are_sae_probes_encoding_and_rows_are_capped() -> None:
    from sae_probes.utils_data import get_yvals

    data = load_dataset("117_us_state_FL", max_examples=300)
    assert len(data.prompts) == len(data.labels) == 300
    rows = capped_rows(get_yvals("117_us_state_FL"), 300)
    assert np.array_equal(data.labels, get_yvals("117_us_state_FL")[rows])
    assert data.labels.sum() == 150  # the file is sorted by class; the subset keeps half
    assert np.array_equal(load_dataset("117_us_state_FL").labels, get_yvals("117_us_state_FL"))
    ood = load_dataset("87_glue_cola")
    assert ood.ood_prompts is not None and ood.ood_labels is not None
    assert set(ood.ood_labels.tolist()) == {0, 1}


def _labels(n: int, n_pos: int, seed: int = 0) -> np.ndarray:
    y = np.zeros(n, dtype=np.int64)
    y[np.random.default_rng(seed).choice(n, n_pos, replace=False)] = 1
    return y


def test_normal_split_is_disjoint_balanced_and_sized_like_sae_probes() -> None:
    y = _labels(1000, 500)
    (split,) = make_splits("normal", y, None, [], [42])
    assert not set(split.train_idx) & set(split.test_idx)
    assert len(split.train_idx) == 900  # min(n - 100, 1024)
    assert len(split.test_idx) == 99  # n - num_train - 1
    assert split.y_train.sum() == 450 and split.y_test.sum() == math.ceil(99 / 2)
    assert np.array_equal(split.y_train, y[split.train_idx])
    (other,) = make_splits("normal", y, None, [], [43])
    assert not np.array_equal(np.sort(other.train_idx), np.sort(split.train_idx))


def test_scarcity_sizes_and_skip_when_too_few_test_rows() -> None:
    y = _labels(400, 200)
    splits = make_splits("scarcity", y, None, [2.0, 10.0, 350.0], [1])
    assert [len(s.train_idx) for s in splits[:2]] == [2, 10]  # type: ignore[union-attr]
    assert [int(s.y_train.sum()) for s in splits[:2]] == [1, 5]  # type: ignore[union-attr]
    assert "leave < 100 test rows" in splits[2].reason  # type: ignore[union-attr]


def test_imbalance_fractions_and_sizes_match_sae_probes() -> None:
    from sae_probes.utils_data import get_class_imbalance, get_classimabalance_num_train

    for name in ("117_us_state_FL", "22_headline_isobama", "95_toxic_is"):
        y = load_dataset(name).labels
        assert imbalance_sizes(y, get_class_imbalance()) == get_classimabalance_num_train(name)
    y = _labels(2000, 1000)
    splits = make_splits("imbalance", y, None, [0.05, 0.5, 0.95], [0])
    num_train, num_test = imbalance_sizes(y, get_class_imbalance())
    for frac, split in zip([0.05, 0.5, 0.95], splits, strict=True):
        assert len(split.train_idx) == num_train and len(split.test_idx) == num_test  # type: ignore[union-attr]
        assert split.y_train.sum() == math.ceil(frac * num_train)  # type: ignore[union-attr]
        assert split.y_test.sum() == math.ceil(frac * num_test)  # type: ignore[union-attr]


def test_corruption_flips_the_requested_fraction_of_training_labels_only() -> None:
    y = _labels(1000, 500)
    clean, flipped = make_splits("corruption", y, None, [0.0, 0.3], [5])
    assert np.array_equal(clean.y_train, y[clean.train_idx])  # type: ignore[union-attr]
    assert int((flipped.y_train != y[flipped.train_idx]).sum()) == int(0.3 * 900)  # type: ignore[union-attr]
    assert np.array_equal(flipped.y_test, y[flipped.test_idx])  # type: ignore[union-attr]


def test_ood_trains_on_the_first_1500_rows_and_tests_on_the_ood_set() -> None:
    y, y_ood = _labels(3000, 1500), _labels(50, 25)
    (split,) = make_splits("ood", y, y_ood, [], [0])
    assert split.ood and len(split.train_idx) == 1024 and split.train_idx.max() < 1500  # type: ignore[union-attr]
    assert np.array_equal(split.y_test, y_ood)  # type: ignore[union-attr]
    (skip,) = make_splits("ood", y, None, [], [0])
    assert "no OOD test set" in skip.reason  # type: ignore[union-attr]


def test_one_class_and_unbalanced_datasets_are_skips_with_reasons() -> None:
    (skip,) = make_splits("normal", np.ones(500, dtype=np.int64), None, [], [0])
    assert skip.reason == "only one class"  # type: ignore[union-attr]
    (skip,) = make_splits("normal", _labels(500, 20), None, [], [0])
    assert "too few rows of one class" in skip.reason  # type: ignore[union-attr]
