"""``sae-interp EVAL [options]``: the same as ``python -m sae_interp.evals.EVAL``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sae_interp.core.cli import eval_main
from sae_interp.core.errors import SpecError
from sae_interp.evals import EVAL_MODULES, get_eval

USAGE = "usage: sae-interp EVAL [options]   (EVAL: {names}; `sae-interp EVAL --help` for options)\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    names = ", ".join(sorted(EVAL_MODULES))
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(USAGE.format(names=names))
        return 0 if args else 2
    try:
        definition = get_eval(args[0])
    except SpecError as err:
        sys.stderr.write(f"{err}\n" + USAGE.format(names=names))
        return 2
    return eval_main(definition, args[1:])


if __name__ == "__main__":
    sys.exit(main())
