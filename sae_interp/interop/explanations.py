"""Explanations written elsewhere, read for scoring (``--explanations PATH``).

Formats are a registry: each has a ``sniff`` (does this path look like it?) and a ``read``
that yields ``(latent, text, where)`` with ``where`` naming the file and line (or key) the
explanation came from, so every error and every output can point back at it. A path may
name its format explicitly as ``FORMAT:PATH``; otherwise the first format whose sniff
accepts the path is used.

Registered formats:

- ``jsonl``: one JSON object per line with ``latent`` and ``explanation`` (or ``text``);
- ``neuronpedia``: Neuronpedia explanation exports, JSONL or ``.jsonl.gz`` rows with
  ``index`` and ``description`` (other fields ignored);
- ``csv``: a header row with ``latent`` and ``explanation`` (or ``text``) columns;
- ``saebench``: a SAEBench autointerp result file (``eval_result_unstructured`` maps latent
  ids to records with an ``explanation``);
- ``delphi``: delphi's ``explanations/`` folder, one file per latent whose name ends in the
  latent id (``..._latent12.txt``) and whose content is a JSON string.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sae_interp.base.errors import ExplanationsFileError
from sae_interp.base.paths import stable_hash
from sae_interp.base.registry import Registry
from sae_interp.explainers.explanations import Explanation

Entry = tuple[int, str, str]  # latent, text, where


@dataclass(frozen=True)
class GivenExplanation:
    latent: int
    text: str
    where: str = ""


@dataclass(frozen=True)
class ExplanationFormat:
    name: str
    description: str
    sniff: Callable[[Path], bool]
    read: Callable[[Path], Iterator[Entry]]


EXPLANATION_FORMATS: Registry[ExplanationFormat] = Registry("explanations format")


@dataclass
class GivenExplanations:
    """The explanations of one file, by latent."""

    format: str
    path: Path
    items: dict[int, GivenExplanation] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """How outputs name where these explanations came from."""
        return f"{self.format}:{self.path}"

    @property
    def digest(self) -> str:
        """A hash of the (latent, text) pairs: it changes when any explanation changes and
        not when the file is only reformatted or moved."""
        return stable_hash(sorted((k, v.text) for k, v in self.items.items()))

    def latents(self) -> list[int]:
        return sorted(self.items)

    def as_explanations(self) -> dict[int, Explanation]:
        """By latent, as the explainers' type, each naming its source (format, file, line)."""
        return {
            k: Explanation(latent=k, text=v.text, source=f"{self.format}:{v.where}")
            for k, v in self.items.items()
        }


def _fail(where: str, problem: str) -> ExplanationsFileError:
    return ExplanationsFileError(f"--explanations: {where}: {problem}")


def _latent_id(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise _fail(where, f"latent id {value!r} is not an integer")
    if isinstance(value, int):
        latent = value
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        latent = int(value.strip())
    elif isinstance(value, float) and value.is_integer():
        latent = int(value)
    else:
        raise _fail(where, f"latent id {value!r} is not an integer")
    if latent < 0:
        raise _fail(where, f"latent id {latent} is negative")
    return latent


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"the explanation is {'empty' if value == '' else repr(value)}")
    return value.strip()


def _open_text(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return path.open(encoding="utf-8")


def _json_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        with _open_text(path) as handle:
            for n, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                where = f"{path}:{n}"
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    raise _fail(where, f"not valid JSON ({err.msg})") from None
                if not isinstance(row, dict):
                    raise _fail(where, "expected a JSON object")
                yield where, row
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise _fail(str(path), f"cannot be read ({err})") from None


def _first_row_keys(path: Path) -> set[str]:
    if not (path.is_file() and (path.name.endswith(".jsonl") or path.name.endswith(".jsonl.gz"))):
        return set()
    try:
        for _, row in _json_rows(path):
            return set(row)
    except ExplanationsFileError:
        return set()
    return set()


def _pick(row: dict[str, Any], names: tuple[str, ...], where: str) -> Any:
    for name in names:
        if name in row:
            return row[name]
    raise _fail(where, f"missing field {' or '.join(map(repr, names))}")


def _read_jsonl(path: Path) -> Iterator[Entry]:
    for where, row in _json_rows(path):
        latent = _latent_id(_pick(row, ("latent",), where), where)
        yield latent, _text(_pick(row, ("explanation", "text"), where), where), where


def _read_neuronpedia(path: Path) -> Iterator[Entry]:
    for where, row in _json_rows(path):
        latent = _latent_id(_pick(row, ("index",), where), where)
        yield latent, _text(_pick(row, ("description",), where), where), where


def _read_csv(path: Path) -> Iterator[Entry]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or [])
        text_column = "explanation" if "explanation" in columns else "text"
        if "latent" not in columns or text_column not in columns:
            raise _fail(f"{path}:1", "the header needs columns 'latent' and 'explanation'")
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if None in row or any(row.get(c) is None for c in ("latent", text_column)):
                raise _fail(where, "the row does not have as many cells as the header")
            yield _latent_id(row["latent"], where), _text(row[text_column], where), where


def _saebench_results(path: Path) -> dict[str, Any] | None:
    if not (path.is_file() and path.suffix == ".json"):
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "eval_result_unstructured" in data else None


def _read_saebench(path: Path) -> Iterator[Entry]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise _fail(f"{path}:{err.lineno}", f"not valid JSON ({err.msg})") from None
    per_latent = data.get("eval_result_unstructured") if isinstance(data, dict) else None
    if not isinstance(per_latent, dict):
        raise _fail(str(path), "no 'eval_result_unstructured' object of per-latent results")
    for key, value in per_latent.items():
        where = f"{path}:eval_result_unstructured[{key!r}]"
        text = value.get("explanation") if isinstance(value, dict) else value
        yield _latent_id(key, where), _text(text, where), where


_DELPHI_NAME = re.compile(r"(\d+)\.txt$")


def _read_delphi(path: Path) -> Iterator[Entry]:
    for file in sorted(path.iterdir()):
        if not file.is_file() or file.suffix != ".txt":
            continue
        where = str(file)
        match = _DELPHI_NAME.search(file.name)
        if match is None:
            raise _fail(where, "the file name does not end in a latent id ('..._latent12.txt')")
        try:
            text = json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise _fail(f"{where}:{err.lineno}", f"not a JSON string ({err.msg})") from None
        yield int(match.group(1)), _text(text, where), where


def _is_delphi(path: Path) -> bool:
    return path.is_dir() and any(_DELPHI_NAME.search(p.name) for p in path.glob("*.txt"))


for _format in (
    ExplanationFormat(
        "neuronpedia",
        "Neuronpedia explanation export: JSONL(.gz) rows with 'index' and 'description'",
        lambda p: {"index", "description"} <= _first_row_keys(p),
        _read_neuronpedia,
    ),
    ExplanationFormat(
        "jsonl",
        "JSONL rows with 'latent' and 'explanation' (or 'text')",
        lambda p: p.is_file() and (p.name.endswith(".jsonl") or p.name.endswith(".jsonl.gz")),
        _read_jsonl,
    ),
    ExplanationFormat(
        "csv",
        "CSV with a header row naming 'latent' and 'explanation' (or 'text')",
        lambda p: p.is_file() and p.suffix == ".csv",
        _read_csv,
    ),
    ExplanationFormat(
        "saebench",
        "SAEBench autointerp result file (explanations in 'eval_result_unstructured')",
        lambda p: _saebench_results(p) is not None,
        _read_saebench,
    ),
    ExplanationFormat(
        "delphi",
        "delphi 'explanations/' folder: one JSON-string file per latent",
        _is_delphi,
        _read_delphi,
    ),
):
    EXPLANATION_FORMATS.register(_format.name, _format)

SNIFF_ORDER = ("neuronpedia", "jsonl", "csv", "saebench", "delphi")


def _split_spec(spec: str | Path) -> tuple[str | None, Path]:
    text = str(spec)
    name, sep, rest = text.partition(":")
    if sep and name in EXPLANATION_FORMATS:
        return name, Path(rest)
    return None, Path(text)


def read_explanations(spec: str | Path) -> GivenExplanations:
    """The explanations in ``spec`` (``PATH`` or ``FORMAT:PATH``). Raises
    :class:`ExplanationsFileError` naming the file and line of the first problem: a
    malformed row, a missing field, a latent id that is not a non-negative integer, an
    empty explanation, or a latent given twice."""
    name, path = _split_spec(spec)
    if not path.exists():
        raise _fail(str(path), "no such file or directory")
    if name is None:
        name = next((n for n in SNIFF_ORDER if EXPLANATION_FORMATS.get(n).sniff(path)), None)
        if name is None:
            known = "; ".join(f"{n}: {EXPLANATION_FORMATS.get(n).description}" for n in SNIFF_ORDER)
            raise _fail(str(path), f"not a known explanations format ({known})")
    given = GivenExplanations(format=name, path=path)
    for latent, text, where in EXPLANATION_FORMATS.get(name).read(path):
        if latent in given.items:
            first = given.items[latent].where
            raise _fail(where, f"latent {latent} already has an explanation (at {first})")
        given.items[latent] = GivenExplanation(latent, text, where)
    if not given.items:
        raise _fail(str(path), "no explanations in it")
    return given


def explanations_digest(spec: str | Path) -> str:
    """The digest of the explanations in ``spec`` (see :attr:`GivenExplanations.digest`)."""
    return read_explanations(spec).digest
