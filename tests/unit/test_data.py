import json
from pathlib import Path

import pytest

from sae_interp.base.errors import CorpusError, SpecError
from sae_interp.data import load_corpus, open_corpus
from sae_interp.data import tokenize as tokenize_module
from sae_interp.data.embedded import clean, content_hash, package_dir
from sae_interp.data.sources import MAX_DOC_CHARS, SOURCES
from sae_interp.data.text_sources import parse_hf_spec


def test_blocks_shape_bos_and_determinism(corpus_file: Path, tokenizer) -> None:
    blocks = load_corpus(str(corpus_file), tokenizer, n_tokens=200, ctx_len=16)
    assert blocks.shape == (13, 16)  # ceil(200 / 16)
    assert (blocks[:, 0] == tokenizer.bos_token_id).all()
    again = load_corpus(str(corpus_file), tokenizer, n_tokens=200, ctx_len=16, use_cache=False)
    assert (again == blocks).all()


def test_stream_concatenates_documents_with_bos(tmp_path: Path, tokenizer) -> None:
    path = tmp_path / "c.txt"
    path.write_text("the cat sat\n\na dog ran on the mat .\n\none two three four five six seven")
    blocks = load_corpus(str(path), tokenizer, n_tokens=16, ctx_len=8, use_cache=False)
    bos = tokenizer.bos_token_id
    ids = lambda s: tokenizer(s, add_special_tokens=False)["input_ids"]  # noqa: E731
    stream = [bos, *ids("the cat sat"), bos, *ids("a dog ran on the mat ."), bos, *ids("one two")]
    assert blocks[0].tolist() == [bos, *stream[:7]]
    assert blocks[1].tolist() == [bos, *stream[7:14]]


def test_cache_serves_smaller_requests(corpus_file: Path, tokenizer, monkeypatch) -> None:
    big = load_corpus(str(corpus_file), tokenizer, n_tokens=320, ctx_len=16)

    def fail(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("should have been served from the cache")

    monkeypatch.setattr(tokenize_module, "build_blocks", fail)
    small = load_corpus(str(corpus_file), tokenizer, n_tokens=64, ctx_len=16)
    assert (small == big[:4]).all()


def test_short_corpus_returns_what_exists(corpus_file: Path, tokenizer) -> None:
    blocks = load_corpus(str(corpus_file), tokenizer, n_tokens=10**6, ctx_len=16)
    assert 0 < blocks.shape[0] < 10**6 // 16


def test_jsonl_column(tmp_path: Path, tokenizer) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(
        "\n".join(json.dumps({"body": "the cat sat on the mat " * 3}) for _ in range(4))
    )
    blocks = load_corpus(f"{path}#body", tokenizer, n_tokens=32, ctx_len=8)
    assert blocks.shape == (4, 8)
    with pytest.raises(CorpusError, match="no field 'text'"):
        load_corpus(str(path), tokenizer, n_tokens=32, ctx_len=8)


def test_empty_corpus_is_a_clear_error(tmp_path: Path, tokenizer) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("\n\n")
    with pytest.raises(CorpusError, match="no complete sequence"):
        load_corpus(str(path), tokenizer, n_tokens=100, ctx_len=16)


def test_bad_corpus_specs(tmp_path: Path, tokenizer) -> None:
    with pytest.raises(SpecError, match="unknown corpus spec"):
        open_corpus("nope://x")
    with pytest.raises(SpecError, match="splits"):
        open_corpus("embedded:test")
    (tmp_path / "x.csv").write_text("a")
    with pytest.raises(SpecError, match=r"\.txt or \.jsonl"):
        open_corpus(str(tmp_path / "x.csv"))
    with pytest.raises(CorpusError, match="ctx_len"):
        load_corpus(str(tmp_path / "x.csv"), tokenizer, n_tokens=10, ctx_len=1)


def test_hf_spec_parsing() -> None:
    assert parse_hf_spec("hf:monology/pile-uncopyrighted") == (
        "monology/pile-uncopyrighted",
        None,
        "train",
        "text",
    )
    assert parse_hf_spec("hf:wikitext:wikitext-103-raw-v1@validation#text") == (
        "wikitext",
        "wikitext-103-raw-v1",
        "validation",
        "text",
    )
    with pytest.raises(SpecError):
        parse_hf_spec("hf:")


def test_embedded_sources_are_installed() -> None:
    """Every file the embedded corpus reads ships in an installed package."""
    for source in SOURCES:
        root = package_dir(source.package)
        for rel in source.files:
            assert (root / rel).is_file(), f"{source.package} lacks {rel}"
    assert len({s.domain for s in SOURCES}) >= 8


def test_document_cleaning_and_dedup_key() -> None:
    assert clean("short") is None
    long = "word " * 2000
    cut = clean(long)
    assert cut is not None and len(cut) <= MAX_DOC_CHARS and not cut.endswith(" ")
    assert content_hash("The  Cat\nsat") == content_hash("the cat sat")
