"""The binary classification datasets of the sae-probes wheel, read offline.

Prompts and labels come from the files the ``sae-probes`` package ships; labels are encoded
with sae-probes' own ``get_yvals`` (a ``LabelEncoder`` over the target column, so the
alphabetically second class is 1). Users and tests can add datasets of their own with
:func:`register_dataset`; they are selected by name like the shipped ones.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
from tabulate import tabulate

from sae_interp.base.errors import SpecError

# A documented quick subset: short prompts (a few tokens to a sentence), several topics, so
# activations for all of them take a few minutes on a 2-core CPU.
QUICK_DATASETS: tuple[str, ...] = (
    "5_hist_fig_ismale",
    "6_hist_fig_isamerican",
    "22_headline_isobama",
    "87_glue_cola",
    "92_glue_sst2",
    "105_click_bait",
    "117_us_state_FL",
    "126_art_type_book",
    "148_twt_emotion_worry",
    "154_athlete_sport_football",
)
_GROUPED_PREFIXES = re.compile(r"^(phrase|wikidata)_")


@dataclass(frozen=True)
class DatasetInfo:
    """One binary task: its name (sae-probes' numbered tag), category and size."""

    name: str
    category: str
    n_examples: int
    n_positive: int
    has_ood: bool = False


@dataclass
class ProbingDataset:
    """Prompts and 0/1 labels of one task (``ood_*`` when an out-of-distribution test set
    exists)."""

    name: str
    prompts: list[str]
    labels: np.ndarray
    category: str = "custom"
    ood_prompts: list[str] | None = None
    ood_labels: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels, dtype=np.int64)
        if len(self.prompts) != len(self.labels):
            raise SpecError(
                f"dataset {self.name!r}: {len(self.prompts)} prompts but {len(self.labels)} labels"
            )

    def info(self) -> DatasetInfo:
        return DatasetInfo(
            self.name,
            self.category,
            len(self.labels),
            int(self.labels.sum()),
            self.ood_prompts is not None,
        )


_CUSTOM: dict[str, ProbingDataset] = {}


def register_dataset(dataset: ProbingDataset, *, overwrite: bool = False) -> ProbingDataset:
    """Make ``dataset`` selectable by name (for your own data, and for tests)."""
    if dataset.name in _CUSTOM and not overwrite:
        raise ValueError(f"probing dataset {dataset.name!r} is already registered")
    _CUSTOM[dataset.name] = dataset
    return dataset


def unregister_dataset(name: str) -> None:
    _CUSTOM.pop(name, None)


def _data_path() -> Path:
    from sae_probes.constants import DATA_PATH

    return Path(DATA_PATH)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@cache
def _shipped_infos() -> tuple[DatasetInfo, ...]:
    import pandas as pd
    from sae_probes.utils_data import get_binary_df

    master = get_binary_df()
    # the master sheet names each family once and leaves the following rows blank
    full = pd.read_csv(_data_path() / "probing_datasets_MASTER.csv.zst", compression="zstd")
    family = full["Dataset name"].ffill()
    ood = set(ood_names())
    infos = []
    for row_id, save_name in zip(master.index, master["Dataset save name"], strict=True):
        name = str(save_name).split("/")[-1].split(".")[0]
        category = _slug(str(family.loc[row_id]))
        grouped = _GROUPED_PREFIXES.match(category)
        labels = _shipped_labels(name)
        infos.append(
            DatasetInfo(
                name=name,
                category=grouped.group(1) if grouped else category,
                n_examples=len(labels),
                n_positive=int(labels.sum()),
                has_ood=name in ood,
            )
        )
    return tuple(infos)


@cache
def _shipped_labels(name: str) -> np.ndarray:
    from sae_probes.utils_data import get_yvals

    return np.asarray(get_yvals(name), dtype=np.int64)


@cache
def ood_names() -> tuple[str, ...]:
    """Datasets with an out-of-distribution test set in the wheel (the translation table of
    ``66_living-room`` has no labels and is not one)."""
    from sae_probes.utils_data import get_OOD_datasets

    return tuple(sorted(get_OOD_datasets(translation=False)))


def dataset_infos() -> list[DatasetInfo]:
    """Every selectable dataset: the wheel's binary tasks, then registered ones."""
    return [*_shipped_infos(), *(d.info() for d in _CUSTOM.values())]


def dataset_names() -> list[str]:
    return [info.name for info in dataset_infos()]


def categories() -> list[str]:
    return sorted({info.category for info in dataset_infos()})


def closest_names(name: str, known: Sequence[str], n: int = 3) -> list[str]:
    """Known names closest to ``name`` (also matching on the part after the number)."""
    close = difflib.get_close_matches(name, known, n=n, cutoff=0.5)
    if len(close) < n:
        bare = {k.split("_", 1)[-1]: k for k in known}
        for match in difflib.get_close_matches(name, list(bare), n=n, cutoff=0.5):
            if bare[match] not in close:
                close.append(bare[match])
    return close[:n]


def select_datasets(
    names: Sequence[str] = (), categories_: Sequence[str] = (), quick: bool = False
) -> list[str]:
    """Names of the selected datasets, in the wheel's order: the union of ``names``,
    every dataset of ``categories_`` and (``quick``) the quick subset; all when none is
    given. Unknown names or categories raise with the closest known ones."""
    infos = dataset_infos()
    known = [info.name for info in infos]
    known_categories = sorted({info.category for info in infos})
    for name in names:
        if name not in known:
            hint = closest_names(name, known)
            raise SpecError(
                f"unknown probing dataset {name!r}"
                + (f"; closest: {', '.join(hint)}" if hint else "")
                + " (--list-datasets shows them all)"
            )
    for category in categories_:
        if category not in known_categories:
            hint = difflib.get_close_matches(category, known_categories, n=3, cutoff=0.4)
            raise SpecError(
                f"unknown probing dataset category {category!r}"
                + (f"; closest: {', '.join(hint)}" if hint else "")
            )
    if not names and not categories_ and not quick:
        return known
    wanted = set(names) | ({i.name for i in infos if i.category in set(categories_)})
    if quick:
        wanted |= set(QUICK_DATASETS)
    return [name for name in known if name in wanted]


def capped_rows(labels: np.ndarray, max_examples: int | None) -> np.ndarray:
    """Rows kept from a dataset: all of them (every shipped dataset has at most sae-probes'
    5000), else a fixed random subset in file order with the dataset's class proportions
    (several files are sorted by class, and sae-probes' balanced splits need both classes
    in full)."""
    n = len(labels)
    if max_examples is None or n <= max_examples:
        return np.arange(n)
    rng = np.random.RandomState(0)
    pos, neg = np.flatnonzero(labels == 1), np.flatnonzero(labels != 1)
    n_pos = round(max_examples * len(pos) / n)
    keep = [
        rng.choice(pos, n_pos, replace=False),
        rng.choice(neg, max_examples - n_pos, replace=False),
    ]
    return np.sort(np.concatenate(keep))


def load_dataset(name: str, max_examples: int | None = None) -> ProbingDataset:
    """Prompts and labels of ``name`` (at most ``max_examples`` rows, see
    :func:`capped_rows`), with its OOD test set when the wheel has one."""
    if name in _CUSTOM:
        data = _CUSTOM[name]
        rows = capped_rows(data.labels, max_examples)
        return ProbingDataset(
            data.name,
            [data.prompts[i] for i in rows],
            data.labels[rows],
            data.category,
            data.ood_prompts,
            data.ood_labels,
        )
    if name not in set(dataset_names()):
        select_datasets([name])  # raises with the closest names
    from sae_probes.utils_data import read_numbered_dataset_df

    frame = read_numbered_dataset_df(name)
    rows = capped_rows(_shipped_labels(name), max_examples)
    prompts = [str(frame["prompt"].iloc[i]) for i in rows]
    labels = _shipped_labels(name)[rows]
    info = next(i for i in _shipped_infos() if i.name == name)
    ood_prompts, ood_labels = _load_ood(name) if info.has_ood else (None, None)
    return ProbingDataset(name, prompts, labels, info.category, ood_prompts, ood_labels)


def _load_ood(name: str) -> tuple[list[str], np.ndarray]:
    """The OOD test set, encoded like sae-probes' ``get_xy_OOD`` (a fresh
    ``LabelEncoder`` on its target column), read from the ``.csv.zst`` the wheel ships."""
    import pandas as pd
    from sklearn.preprocessing import LabelEncoder

    frame = pd.read_csv(_data_path() / "OOD data" / f"{name}_OOD.csv.zst", compression="zstd")
    labels = LabelEncoder().fit_transform(frame["target"].values)
    return [str(p) for p in frame["prompt"].tolist()], np.asarray(labels, dtype=np.int64)


def dataset_table(names: Sequence[str]) -> str:
    wanted = set(names)
    rows = [
        {
            "dataset": i.name,
            "category": i.category,
            "examples": i.n_examples,
            "positive": i.n_positive,
            "ood": "yes" if i.has_ood else "",
            "quick": "yes" if i.name in QUICK_DATASETS else "",
        }
        for i in dataset_infos()
        if i.name in wanted
    ]
    return tabulate(rows, headers="keys", tablefmt="github") + f"\n{len(rows)} datasets\n"
