"""Command line of the report page (generated from :class:`ReportConfig`; the results folder
may also come first without its flag: ``sae-interp report RESULTS_DIR``)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import Field, ValidationError

from sae_interp.base import FrozenModel
from sae_interp.base.errors import SaeInterpError
from sae_interp.base.logging import setup_logging
from sae_interp.framework.cli import config_error_message, parse_config

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
    try:
        config, log_level = parse_config(ReportConfig, args, prog)
    except ValidationError as err:
        sys.stderr.write(config_error_message(err) + "\n")
        return 2
    setup_logging(log_level)
    from sae_interp.report.page import write_report

    try:
        path = write_report(
            config.results_dir,
            config.output,
            max_cards=config.max_cards,
            n_windows=config.n_windows,
            windows=config.windows,
        )
    except SaeInterpError as err:
        logger.error("%s", err)
        return 2
    sys.stdout.write(f"wrote: {path}\n")
    return 0
