"""Materialise the embedded corpus: read every source, clean, deduplicate, split and fix
the order once, then cache the documents as JSONL in the user cache."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from sae_interp.base.paths import cache_dir
from sae_interp.data.sources import (
    CORPUS_VERSION,
    MAX_DOC_CHARS,
    MIN_DOC_CHARS,
    SOURCES,
    VALIDATION_PERCENT,
    CorpusSource,
)

logger = logging.getLogger(__name__)

SPLITS = ("train", "validation")


def _read_sae_probes_csv(path: Path) -> Iterator[str]:
    import pandas as pd

    frame = pd.read_csv(path, usecols=["prompt"], dtype={"prompt": "string"})
    yield from (text for text in frame["prompt"].dropna())


def _read_wiki_summaries(path: Path) -> Iterator[str]:
    for entry in json.loads(path.read_text()).values():
        text = entry.get("extract") if isinstance(entry, dict) else None
        if text:
            yield str(text)


READERS: dict[str, Callable[[Path], Iterator[str]]] = {
    "sae_probes_csv": _read_sae_probes_csv,
    "wiki_summaries_json": _read_wiki_summaries,
}


def clean(text: str) -> str | None:
    text = text.replace("\r\n", "\n").strip()
    if len(text) > MAX_DOC_CHARS:
        cut = text.rfind(" ", MAX_DOC_CHARS - 200, MAX_DOC_CHARS)
        text = text[: cut if cut > 0 else MAX_DOC_CHARS]
    return text if len(text) >= MIN_DOC_CHARS else None


def content_hash(text: str) -> str:
    normalised = re.sub(r"\s+", " ", text).strip().lower()
    return hashlib.sha256(normalised.encode()).hexdigest()


def package_dir(package: str) -> Path:
    """Where an installed package lives, found without importing it (some data-carrying
    packages import heavy or missing dependencies at import time)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package {package!r} is not installed; it carries part of the embedded corpus"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def iter_source(source: CorpusSource) -> Iterator[str]:
    root = package_dir(source.package)
    for rel in source.files:
        path = root / rel
        if not path.exists():
            raise FileNotFoundError(f"{source.package} does not ship {rel}")
        yield from READERS[source.reader](path)


def build_documents() -> dict[str, list[dict[str, str]]]:
    """All documents, deduplicated, split and in their fixed order."""
    seen: set[str] = set()
    docs: dict[str, list[tuple[str, dict[str, str]]]] = {s: [] for s in SPLITS}
    for source in SOURCES:
        kept = 0
        for raw in iter_source(source):
            text = clean(raw)
            if text is None:
                continue
            digest = content_hash(text)
            if digest in seen:
                continue
            seen.add(digest)
            split = "validation" if int(digest[:8], 16) % 100 < VALIDATION_PERCENT else "train"
            order_key = hashlib.sha256(f"order-v{CORPUS_VERSION}:{digest}".encode()).hexdigest()
            docs[split].append((order_key, {"text": text, "source": source.name}))
            kept += 1
        logger.info("corpus source %s: %d documents", source.name, kept)
    return {
        split: [d for _, d in sorted(items, key=lambda p: p[0])] for split, items in docs.items()
    }


def corpus_dir() -> Path:
    return cache_dir("corpus", f"embedded-v{CORPUS_VERSION}")


def documents_path(split: str) -> Path:
    """JSONL of the split's documents, built on first use (~30 s)."""
    if split not in SPLITS:
        raise ValueError(f"unknown embedded corpus split {split!r}; use one of {SPLITS}")
    directory = corpus_dir()
    done = directory / "complete.json"
    if not done.exists():
        logger.info("building the embedded corpus (one-time)")
        built = build_documents()
        counts = {}
        for name, items in built.items():
            tmp = directory / f"{name}.jsonl.tmp"
            with tmp.open("w") as handle:
                for item in items:
                    handle.write(json.dumps(item) + "\n")
            tmp.replace(directory / f"{name}.jsonl")
            counts[name] = len(items)
        done.write_text(json.dumps({"version": CORPUS_VERSION, "documents": counts}))
    return directory / f"{split}.jsonl"


def iter_documents(split: str) -> Iterator[str]:
    with documents_path(split).open() as handle:
        for line in handle:
            yield json.loads(line)["text"]
