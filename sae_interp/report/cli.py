"""Command line of the report page (generated from :class:`ReportConfig`; the results folder
may also come first without its flag: ``sae-interp report RESULTS_DIR``)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import Field

from sae_interp.base import FrozenModel
from sae_interp.framework.cli import command_main

logger = logging.getLogger(__name__)


class ReportConfig(FrozenModel):
    """Write a static HTML page of a results folder: tables, plots and latent cards."""

    results_dir: Path = Field(description="Folder of results (an eval's --output-dir).")
    output: Path | None = Field(
        default=None, description="Page to write (default: RESULTS_DIR/report.html)."
    )
    max_cards: int = Field(default=12, ge=0, description="Latent cards per SAE.")
    n_windows: int = Field(default=3, ge=0, description="Top windows shown on each card.")
    windows: bool = Field(
        default=True,
        description="Read the top windows from the latent cache the results were made on "
        "(loads the model's tokenizer only); cards go without them when it is gone.",
    )


def main(argv: Sequence[str] | None = None, prog: str = "python -m sae_interp.report") -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and not args[0].startswith("-"):
        args = ["--results-dir", *args]
    return command_main(ReportConfig, args, prog, _write)


def _write(config: ReportConfig) -> str:
    from sae_interp.report.page import write_report

    path = write_report(
        config.results_dir,
        config.output,
        max_cards=config.max_cards,
        n_windows=config.n_windows,
        windows=config.windows,
    )
    return f"wrote: {path}\n"
