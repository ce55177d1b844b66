"""``python -m sae_interp.schemas``: one JSON schema per registered eval output, written to
``schemas/<eval>.json`` (``make schemas``). ``--check`` writes nothing and fails when a
committed schema differs from what the output classes give now."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from sae_interp.evals import eval_names, get_eval
from sae_interp.framework.output import json_schema

logger = logging.getLogger(__name__)

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "schemas"


def eval_schemas() -> dict[str, str]:
    """eval name -> JSON schema text of its output (every eval module is imported)."""
    return {name: json_schema(get_eval(name).output_cls) + "\n" for name in eval_names()}


def outdated(directory: Path) -> list[str]:
    """Names of schema files in ``directory`` that are missing, differ or belong to no eval."""
    schemas = eval_schemas()
    stale = [
        f"{name}.json"
        for name, text in schemas.items()
        if not (directory / f"{name}.json").exists()
        or (directory / f"{name}.json").read_text(encoding="utf-8") != text
    ]
    extra = [p.name for p in directory.glob("*.json") if p.stem not in schemas]
    return sorted(stale + extra)


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.json"):
        path.unlink()  # an eval that was removed leaves no schema behind
    written = []
    for name, text in eval_schemas().items():
        path = directory / f"{name}.json"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sae_interp.schemas", description=__doc__)
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_DIR, help="Schema folder.")
    parser.add_argument("--check", action="store_true", help="Only check they are up to date.")
    args = parser.parse_args(argv)
    if args.check:
        stale = outdated(args.output_dir)
        if stale:
            sys.stderr.write(
                f"out of date in {args.output_dir}: {', '.join(stale)} (run `make schemas`)\n"
            )
            return 1
        return 0
    for path in write(args.output_dir):
        sys.stdout.write(f"wrote: {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
