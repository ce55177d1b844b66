"""Document streams for corpus specs: embedded, local files, Hugging Face datasets.

A resolver turns a spec into (fingerprint, document iterator); the fingerprint names the
content for the token cache.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sae_interp.base.errors import CorpusError, SpecError
from sae_interp.base.registry import Registry
from sae_interp.data import embedded
from sae_interp.data.sources import CORPUS_VERSION


@dataclass(frozen=True)
class DocumentStream:
    fingerprint: str  # identifies the content (changes when the text would change)
    documents: Callable[[], Iterator[str]]


@dataclass(frozen=True)
class CorpusResolver:
    matches: Callable[[str], bool]
    open: Callable[[str], DocumentStream]
    describe: str


CORPUS_RESOLVERS: Registry[CorpusResolver] = Registry("corpus resolver")


def _open_embedded(spec: str) -> DocumentStream:
    split = spec.partition(":")[2] or "train"
    if split not in embedded.SPLITS:
        raise SpecError(f"embedded corpus has splits {embedded.SPLITS}, not {split!r}")
    return DocumentStream(
        f"embedded-v{CORPUS_VERSION}:{split}", lambda: embedded.iter_documents(split)
    )


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def _local_files(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.suffix in (".txt", ".jsonl"))
        if not found:
            raise CorpusError(f"directory {path} holds no .txt or .jsonl files")
        return found
    if path.suffix not in (".txt", ".jsonl"):
        raise SpecError(f"local corpus files must be .txt or .jsonl, got {path.name}")
    return [path]


def _iter_file(path: Path, column: str) -> Iterator[str]:
    if path.suffix == ".jsonl":
        with path.open() as handle:
            for n, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    raise CorpusError(f"{path}, line {n}: not valid JSON ({err.msg})") from None
                if not isinstance(record, dict):
                    raise CorpusError(f"{path}, line {n}: expected a JSON object per line")
                if column not in record:
                    raise CorpusError(f"{path}:{n} has no field {column!r}")
                yield str(record[column])
    else:
        for paragraph in _PARAGRAPH_BREAK.split(path.read_text()):
            if paragraph.strip():
                yield paragraph.strip()


def _is_local(spec: str) -> bool:
    return Path(spec.partition("#")[0]).expanduser().exists()


def _open_local(spec: str) -> DocumentStream:
    raw_path, _, column = spec.partition("#")
    paths = _local_files(Path(raw_path).expanduser())
    stamp = [(str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in paths]
    col = column or "text"

    def documents() -> Iterator[str]:
        for path in paths:
            yield from _iter_file(path, col)

    return DocumentStream(f"local:{stamp}:{col}", documents)


def parse_hf_spec(spec: str) -> tuple[str, str | None, str, str]:
    """'hf:PATH[:CONFIG][@SPLIT][#COLUMN]' -> (path, config, split, column)."""
    body = spec.removeprefix("hf:")
    body, _, column = body.partition("#")
    body, _, split = body.partition("@")
    path, _, config = body.partition(":")
    if not path:
        raise SpecError(f"expected 'hf:PATH[:CONFIG][@SPLIT][#COLUMN]', got {spec!r}")
    return path, (config or None), (split or "train"), (column or "text")


def _open_hf(spec: str) -> DocumentStream:
    path, config, split, column = parse_hf_spec(spec)

    def documents() -> Iterator[str]:
        from datasets import load_dataset

        dataset = load_dataset(path, config, split=split, streaming=True)
        for row in dataset:
            if column not in row:
                raise CorpusError(f"dataset {path} has no column {column!r}: {list(row)}")
            yield str(row[column])

    return DocumentStream(f"hf:{path}:{config}:{split}:{column}", documents)


CORPUS_RESOLVERS.register(
    "embedded",
    CorpusResolver(
        lambda s: s == "embedded" or s.startswith("embedded:"),
        _open_embedded,
        "'embedded[:train|validation]'",
    ),
)
CORPUS_RESOLVERS.register(
    "hf",
    CorpusResolver(lambda s: s.startswith("hf:"), _open_hf, "'hf:PATH[:CONFIG][@SPLIT][#COL]'"),
)
CORPUS_RESOLVERS.register(
    "local", CorpusResolver(_is_local, _open_local, "a local .txt/.jsonl file or directory")
)


def open_corpus(spec: str) -> DocumentStream:
    for name in CORPUS_RESOLVERS.names():
        resolver = CORPUS_RESOLVERS.get(name)
        if resolver.matches(spec):
            return resolver.open(spec)
    path = Path(spec.partition("#")[0]).expanduser()
    looks_like_a_path = path.suffix in (".txt", ".jsonl") or "/" in spec or spec[:1] in ".~"
    if looks_like_a_path and "://" not in spec:
        raise CorpusError(f"corpus file {path} does not exist (--corpus {spec})")
    forms = "; ".join(CORPUS_RESOLVERS.get(n).describe for n in CORPUS_RESOLVERS.names())
    raise SpecError(f"unknown corpus spec {spec!r}. A corpus spec is one of: {forms}")
