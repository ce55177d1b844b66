"""``sae-interp EVAL [options]``: the same as ``python -m sae_interp.evals.EVAL``; and the
commands that work on results (``sae-interp compare A.json B.json``)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from sae_interp.core.cli import eval_main
from sae_interp.core.errors import SpecError
from sae_interp.evals import EVAL_MODULES, get_eval

USAGE = (
    "usage: sae-interp EVAL [options]   (EVAL: {names}; `sae-interp EVAL --help` for options)\n"
    "       sae-interp COMMAND [options] (COMMAND: {commands})\n"
)


def _compare(argv: Sequence[str]) -> int:
    from sae_interp.compare import main as compare_main

    return compare_main(argv)


# commands on results, by name (evals are looked up in the eval registry)
COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {"compare": _compare}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    names = ", ".join(sorted(EVAL_MODULES))
    usage = USAGE.format(names=names, commands=", ".join(sorted(COMMANDS)))
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(usage)
        return 0 if args else 2
    if args[0] in COMMANDS:
        return COMMANDS[args[0]](args[1:])
    try:
        definition = get_eval(args[0])
    except SpecError as err:
        sys.stderr.write(f"{err}\n" + usage)
        return 2
    return eval_main(definition, args[1:])


if __name__ == "__main__":
    sys.exit(main())
