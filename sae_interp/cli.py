"""``sae-interp EVAL [options]``: the same as ``python -m sae_interp.evals.EVAL``; and the
commands that work on results (``sae-interp compare A.json B.json``)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from sae_interp.base.errors import SpecError
from sae_interp.evals import eval_names, get_eval
from sae_interp.framework.cli import eval_main

USAGE = (
    "usage: sae-interp EVAL [options]   (EVAL: {names}; `sae-interp EVAL --help` for options)\n"
    "       sae-interp COMMAND [options]  (COMMAND: {commands})\n"
)

# commands other than evals: name -> module whose ``main(argv, prog)`` runs it
COMMANDS: dict[str, str] = {
    "compare": "sae_interp.compare",
    "cost": "sae_interp.cost",
    "doctor": "sae_interp.doctor",
    "export": "sae_interp.export",
    "report": "sae_interp.report",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    usage = USAGE.format(names=", ".join(eval_names()), commands=", ".join(COMMANDS))
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(usage)
        return 0 if args else 2
    if args[0] in COMMANDS:
        command = importlib.import_module(COMMANDS[args[0]])
        return int(command.main(args[1:], prog=f"sae-interp {args[0]}"))
    try:
        definition = get_eval(args[0])
    except SpecError as err:
        sys.stderr.write(f"{err}\n" + usage)
        return 2
    return eval_main(definition, args[1:])


if __name__ == "__main__":
    sys.exit(main())
