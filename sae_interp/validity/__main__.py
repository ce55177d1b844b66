"""``python -m sae_interp.validity``: the known-answer suite from the command line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

from sae_interp.framework.cli import command_main
from sae_interp.validity.suite import ValidityConfig, run_suite

logger = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    return command_main(ValidityConfig, argv, None, lambda cfg: summary(run_suite(cfg)))


def summary(reports: Sequence[Any]) -> str:
    """Each report's table, explainer naming, judge biases and intruder positions."""
    out = []
    for report in reports:
        out.append(f"\n{report.sae}\n{report.table}\n")
        if report.explainer is not None:
            q = report.explainer
            out.append(f"explainer names the right set: {q.n_named}/{q.n_planted}\n")
        for b in report.bias:
            out.append(
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
            out.append(
                f"intruder answers by position {[round(x, 2) for x in ib.answered_by_position]} "
                f"(intruder there {[round(x, 2) for x in ib.truth_by_position]}), the demo's "
                f"number {ib.demo_answer} named {ib.demo_answer_rate:.2f}\n"
            )
    return "".join(out)


if __name__ == "__main__":
    sys.exit(main())
