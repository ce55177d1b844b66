"""``python -m sae_interp.validity``: the known-answer suite from the command line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from sae_interp.base.errors import SaeInterpError
from sae_interp.base.logging import setup_logging
from sae_interp.framework.cli import config_error_message, parse_config
from sae_interp.validity.suite import ValidityConfig, run_suite

logger = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        config, log_level = parse_config(ValidityConfig, argv)
    except ValidationError as err:
        sys.stderr.write(config_error_message(err) + "\n")
        return 2
    setup_logging(log_level)
    try:
        reports = run_suite(config)
    except SaeInterpError as err:
        logger.error("%s", err)
        return 2
    for report in reports:
        sys.stdout.write(f"\n{report.sae}\n{report.table}\n")
        if report.explainer is not None:
            q = report.explainer
            sys.stdout.write(f"explainer names the right set: {q.n_named}/{q.n_planted}\n")
        for b in report.bias:
            sys.stdout.write(
                f"bias {b.source}/{b.eval} ({b.mode}): answered 1 {b.positive_rate:.2f} "
                f"(truth {b.true_positive_fraction:.2f}), same answer with a shuffled "
                f"explanation {b.agreement_real_vs_shuffled:.2f}"
                + (
                    f", by slot {[round(x, 2) for x in b.positive_rate_by_slot]}"
                    if b.positive_rate_by_slot
                    else ""
                )
                + "\n"
            )
        if report.intruder_bias is not None:
            ib = report.intruder_bias
            sys.stdout.write(
                f"intruder answers by position {[round(x, 2) for x in ib.answered_by_position]} "
                f"(intruder there {[round(x, 2) for x in ib.truth_by_position]}), the demo's "
                f"number {ib.demo_answer} named {ib.demo_answer_rate:.2f}\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
