"""A command line generated from an eval's config class.

Every config field becomes a ``--kebab-case`` flag whose help is the field's description;
nested config models become prefixed flags (``--sampling-window-len``). Values given on the
command line override ``--config FILE.json``; pydantic validates the result.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from tabulate import tabulate

from sae_interp.base.errors import ConfigFileError, SaeInterpError
from sae_interp.base.logging import setup_logging
from sae_interp.framework.runner import EvalDefinition, plan_per_sae, result_path, run_per_sae
from sae_interp.framework.table import results_table
from sae_interp.llm.batch.run import BatchSubmitted

logger = logging.getLogger(__name__)

_NONE_WORDS = {"none", "null"}

ModelT = TypeVar("ModelT", bound=BaseModel)


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _scalar_parser(annotation: Any, optional: bool) -> Any:
    def parse(text: str) -> Any:
        if optional and text.lower() in _NONE_WORDS:
            return None
        if annotation is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise argparse.ArgumentTypeError(f"not a boolean: {text!r}")
        return annotation(text) if annotation in (int, float, str, Path) else text

    return parse


def _list_parser(item: Any, optional: bool) -> Any:
    def parse(text: str) -> list[Any] | None:
        if optional and text.lower() in _NONE_WORDS:
            return None
        return [item(part.strip()) for part in text.split(",") if part.strip()]

    return parse


def _add_field(
    parser: argparse.ArgumentParser, dest: str, info: FieldInfo, default: Any = None
) -> None:
    annotation, optional = _unwrap_optional(info.annotation)
    flag = "--" + dest.replace("__", "-").replace("_", "-")
    help_text = info.description or ""
    if default is not None:
        shown = ",".join(map(str, default)) if isinstance(default, list) else default
        help_text += f" (default: {shown})"
    kwargs: dict[str, Any] = {"dest": dest, "default": argparse.SUPPRESS, "help": help_text}
    origin = typing.get_origin(annotation)
    if annotation is bool and not optional:
        parser.add_argument(flag, action=argparse.BooleanOptionalAction, **kwargs)
    elif origin is list:
        (item,) = typing.get_args(annotation) or (str,)
        parser.add_argument(flag, type=_list_parser(item, optional), metavar="A,B,...", **kwargs)
    elif origin is Literal:
        parser.add_argument(flag, choices=list(typing.get_args(annotation)), **kwargs)
    else:
        parser.add_argument(flag, type=_scalar_parser(annotation, optional), **kwargs)


def _add_model_fields(
    parser: argparse.ArgumentParser,
    model_cls: type[BaseModel],
    prefix: str = "",
    defaults: BaseModel | None = None,
) -> None:
    """Flags for ``model_cls``'s fields. ``defaults`` is the instance a parent config builds
    for this nested model: its values, not the class defaults, are what a run uses."""
    for name, info in model_cls.model_fields.items():
        annotation, _ = _unwrap_optional(info.annotation)
        if defaults is not None:
            default = getattr(defaults, name)
        else:
            default = info.get_default(call_default_factory=True)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            group = parser.add_argument_group(f"{name} options")
            nested = default if isinstance(default, BaseModel) else None
            _add_model_fields(group, annotation, f"{prefix}{name}__", nested)  # type: ignore[arg-type]
        else:
            _add_field(parser, f"{prefix}{name}", info, default)


def build_parser(config_cls: type[BaseModel], prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(config_cls.__doc__ or "").strip() or None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--config",
        dest="_config_file",
        type=Path,
        default=None,
        help="JSON file with config values; flags override it.",
    )
    parser.add_argument(
        "--log-level",
        dest="_log_level",
        default="INFO",
        help="Logging level (DEBUG, INFO, WARNING).",
    )
    _add_model_fields(parser, config_cls)
    return parser


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        node = nested
        *parents, leaf = key.split("__")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return nested


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def with_nested_defaults(model_cls: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with each partly given nested model completed from the default that
    ``model_cls`` builds for it, not from the nested class's own defaults: one flag such as
    ``--sampling-negative-strategy`` changes that setting and keeps the eval's other
    sampling defaults (its window counts, say) instead of resetting them."""
    out = dict(values)
    for name, info in model_cls.model_fields.items():
        given = out.get(name)
        annotation, _ = _unwrap_optional(info.annotation)
        if not (
            isinstance(given, dict)
            and isinstance(annotation, type)
            and issubclass(annotation, BaseModel)
        ):
            continue
        default = info.get_default(call_default_factory=True)
        base = default.model_dump() if isinstance(default, BaseModel) else {}
        out[name] = _merge(base, with_nested_defaults(annotation, given))
    return out


def parse_config(
    config_cls: type[ModelT], argv: Sequence[str] | None = None, prog: str | None = None
) -> tuple[ModelT, str]:
    """Parse ``argv`` into a validated config (any pydantic model: eval configs, and the
    export and report commands); returns (config, log level)."""
    parser = build_parser(config_cls, prog)
    args = vars(parser.parse_args(argv))
    config_file = args.pop("_config_file")
    log_level = args.pop("_log_level")
    values = read_config_file(config_file) if config_file else {}
    given = with_nested_defaults(config_cls, _merge(values, _nest(args)))
    return config_cls.model_validate(given), log_level


def read_config_file(path: Path) -> dict[str, Any]:
    """The values of a ``--config`` JSON file; a missing or malformed file is one clear
    error naming the file (and the line and column of a JSON error)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigFileError(
            f"--config {path}: no such file; give the path of a JSON file of config values"
        ) from None
    except OSError as err:
        raise ConfigFileError(f"--config {path}: cannot be read ({err.strerror})") from None
    try:
        values = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigFileError(
            f"--config {path}, line {err.lineno} column {err.colno}: not valid JSON "
            f"({err.msg}); fix the file"
        ) from None
    if not isinstance(values, dict):
        raise ConfigFileError(
            f"--config {path}: expected a JSON object of config values, got a "
            f"{type(values).__name__}"
        )
    return values


def config_error_message(err: ValidationError) -> str:
    """A validation error as one line per problem, naming the flag: "--penalty: Input
    should be 'l1' or 'l2' (got 'l3')"; a check across settings gives its own sentence."""
    lines = []
    for e in err.errors():
        msg = str(e["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        loc = [str(part) for part in e["loc"] if not isinstance(part, int)]
        if loc:
            flag = "--" + "-".join(part.replace("_", "-") for part in loc)
            got = e.get("input")
            shown = f" (got {got!r})" if isinstance(got, str | int | float) else ""
            lines.append(f"{flag}: {msg}{shown}")
        else:
            lines.append(msg)
    return "invalid configuration: " + "; ".join(lines)


def command_main(
    config_cls: type[ModelT],
    argv: Sequence[str] | None,
    prog: str | None,
    run: Callable[[ModelT], str],
) -> int:
    """The body of every command other than an eval (``cost``, ``export``, ``report``, the
    known-answer suite): flags into a validated ``config_cls`` (one line per bad flag, exit
    2), logging set up, then ``run(config)``, whose text is printed; a
    :class:`~sae_interp.base.errors.SaeInterpError` is one logged sentence and exit 2, and
    batches left running (batch mode without ``--llm-batch-wait``) are said and exit 0."""
    try:
        config, log_level = parse_config(config_cls, argv, prog)
    except ValidationError as err:
        sys.stderr.write(config_error_message(err) + "\n")
        return 2
    except ConfigFileError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    setup_logging(log_level)
    try:
        text = run(config)
    except SaeInterpError as err:
        logger.error("%s", err)
        return 2
    except BatchSubmitted as submitted:  # batch mode without --llm-batch-wait: not an error
        text = f"{submitted}\n"
    sys.stdout.write(text)
    return 0


def eval_main(definition: EvalDefinition[Any, Any], argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sae_interp.evals.<name>``; returns the exit code."""
    return command_main(definition.config_cls, argv, None, lambda cfg: _eval_text(definition, cfg))


def _eval_text(definition: EvalDefinition[Any, Any], config: Any) -> str:
    """What an eval's command prints: its ``info`` text when the config asks for it, the
    plan with ``--dry-run``, else the results table and the result files after the run."""
    if definition.info is not None and (text := definition.info(config)) is not None:
        return text
    if config.dry_run:
        rows = [p.model_dump() for p in plan_per_sae(definition, config)]
        return (
            tabulate(rows, headers="keys", tablefmt="github") if rows else "(no LLM calls)"
        ) + "\n"
    outputs = run_per_sae(definition, config)
    table = definition.table or (lambda out: results_table(out, definition.table_columns))
    paths = [
        f"result: {result_path(config, definition.eval_type_id, o.provenance.sae_spec)}\n"
        for o in outputs
    ]
    return table(outputs) + "\n" + "".join(paths)
