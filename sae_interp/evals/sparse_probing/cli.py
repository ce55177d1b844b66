"""Command line of the sparse probing eval: ``--list-datasets`` prints the selected
datasets (no model is loaded); anything else runs the eval."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pydantic import ValidationError
from tabulate import tabulate

from sae_interp.evals.sparse_probing.eval_config import SparseProbingEvalConfig
from sae_interp.evals.sparse_probing.main import DEFINITION
from sae_interp.framework.cli import config_error_message, eval_main, parse_config
from sae_interp.probing.datasets import QUICK_DATASETS, dataset_infos


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


def main(argv: Sequence[str]) -> int:
    if "--list-datasets" in argv:
        try:
            config, _ = parse_config(SparseProbingEvalConfig, argv)
        except ValidationError as err:
            sys.stderr.write(config_error_message(err) + "\n")
            return 2
        assert isinstance(config, SparseProbingEvalConfig)
        sys.stdout.write(dataset_table(config.dataset_names()))
        return 0
    return eval_main(DEFINITION, argv)
