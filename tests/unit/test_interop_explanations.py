"""Reading explanations written elsewhere: every format from a hand-made file, and the
malformed cases (each error names the file and line)."""

import gzip
import json
from pathlib import Path

import pytest

from sae_interp.base.errors import ExplanationsFileError
from sae_interp.interop import read_explanations


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_with_latent_and_explanation_or_text(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "mine.jsonl",
        '{"latent": 3, "explanation": "dogs"}\n\n{"latent": "7", "text": " cats "}\n',
    )
    given = read_explanations(path)
    assert given.format == "jsonl"
    assert {k: v.text for k, v in given.items.items()} == {3: "dogs", 7: "cats"}
    assert given.items[7].where == f"{path}:3"  # blank line 2 skipped, line numbers kept
    assert given.as_explanations()[3].source == f"jsonl:{path}:1"


def test_neuronpedia_export_plain_and_gzipped(tmp_path: Path) -> None:
    rows = [
        {
            "modelId": "gemma-3-270m",
            "layer": "6-res",
            "index": "12",
            "description": "years",
            "typeName": "oai_token-act-pair",
            "explanationModelName": "gpt-4o-mini",
            "umap_x": 0.1,
        },
        {"modelId": "gemma-3-270m", "layer": "6-res", "index": 40, "description": "code"},
    ]
    text = "".join(json.dumps(r) + "\n" for r in rows)
    plain = read_explanations(_write(tmp_path / "np.jsonl", text))
    gz = tmp_path / "np.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as handle:
        handle.write(text)
    packed = read_explanations(gz)
    assert plain.format == packed.format == "neuronpedia"
    assert {k: v.text for k, v in packed.items.items()} == {12: "years", 40: "code"}
    assert plain.digest == packed.digest  # same explanations, same digest


def test_csv(tmp_path: Path) -> None:
    path = _write(tmp_path / "e.csv", 'latent,explanation\n5,"commas, inside"\n9,numbers\n')
    given = read_explanations(path)
    assert given.format == "csv"
    assert {k: v.text for k, v in given.items.items()} == {5: "commas, inside", 9: "numbers"}
    assert given.items[9].where == f"{path}:3"


def test_saebench_autointerp_result(tmp_path: Path) -> None:
    data = {
        "eval_type_id": "autointerp",
        "eval_result_metrics": {"autointerp": {"autointerp_score": 0.8}},
        "eval_result_unstructured": {
            "4": {"explanation": "the word 'the'", "score": 0.9, "predictions": [1, 2]},
            "11": {"explanation": "closing brackets", "score": 0.7},
        },
    }
    path = _write(tmp_path / "release_sae_eval_results.json", json.dumps(data))
    given = read_explanations(path)
    assert given.format == "saebench"
    assert {k: v.text for k, v in given.items.items()} == {
        4: "the word 'the'",
        11: "closing brackets",
    }
    assert "eval_result_unstructured['11']" in given.items[11].where


def test_delphi_explanations_folder(tmp_path: Path) -> None:
    folder = tmp_path / "explanations"
    folder.mkdir()
    _write(folder / "layers.6_latent2.txt", json.dumps("plural nouns"))
    _write(folder / "layers.6_latent30.txt", json.dumps("dates"))
    given = read_explanations(folder)
    assert given.format == "delphi"
    assert {k: v.text for k, v in given.items.items()} == {2: "plural nouns", 30: "dates"}


def test_format_named_explicitly(tmp_path: Path) -> None:
    # a JSONL file whose rows carry index/description but is named .txt: sniffing fails,
    # the FORMAT: prefix reads it
    path = _write(tmp_path / "rows.txt", '{"index": 1, "description": "x"}\n')
    with pytest.raises(ExplanationsFileError, match="not a known explanations format"):
        read_explanations(path)
    assert read_explanations(f"neuronpedia:{path}").items[1].text == "x"


def test_digest_follows_the_explanations_not_the_layout(tmp_path: Path) -> None:
    a = read_explanations(_write(tmp_path / "a.jsonl", '{"latent": 1, "explanation": "x"}\n'))
    b = read_explanations(_write(tmp_path / "b.csv", "latent,explanation\n1,x\n"))
    c = read_explanations(_write(tmp_path / "c.jsonl", '{"latent": 1, "explanation": "y"}\n'))
    assert a.digest == b.digest != c.digest


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "bad.jsonl",
            '{"latent": 1, "explanation": "x"}\n{"latent": 2,\n',
            r"bad\.jsonl:2: not valid JSON",
        ),
        ("list.jsonl", "[1, 2]\n", r"list\.jsonl:1: expected a JSON object"),
        (
            "nofield.jsonl",
            '{"latent": 1}\n',
            r"nofield\.jsonl:1: missing field 'explanation' or 'text'",
        ),
        (
            "neg.jsonl",
            '{"latent": -3, "explanation": "x"}\n',
            r"neg\.jsonl:1: latent id -3 is negative",
        ),
        ("float.jsonl", '{"latent": 1.5, "explanation": "x"}\n', r"float\.jsonl:1: latent id 1\.5"),
        ("empty.jsonl", '{"latent": 1, "explanation": "  "}\n', r"empty\.jsonl:1: the explanation"),
        (
            "twice.jsonl",
            '{"latent": 1, "explanation": "x"}\n{"latent": 1, "explanation": "y"}\n',
            r"twice\.jsonl:2: latent 1 already has an explanation \(at .*twice\.jsonl:1\)",
        ),
        ("header.csv", "id,explanation\n1,x\n", r"header\.csv:1: the header needs"),
        ("short.csv", "latent,explanation\n1,x\n2\n", r"short\.csv:3: the row does not have"),
        ("word.csv", "latent,explanation\n1,x\nseven,y\n", r"word\.csv:3: latent id 'seven'"),
        ("none.jsonl", "\n", r"none\.jsonl: no explanations"),
    ],
)
def test_malformed_files_name_the_line(tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(ExplanationsFileError, match=message):
        read_explanations(_write(tmp_path / name, text))


def test_malformed_saebench_and_delphi(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "r.json", json.dumps({"eval_result_unstructured": {"x": {"explanation": "a"}}})
    )
    with pytest.raises(
        ExplanationsFileError, match=r"eval_result_unstructured\['x'\]: latent id 'x'"
    ):
        read_explanations(path)
    folder = tmp_path / "explanations"
    folder.mkdir()
    _write(folder / "layers.6_latent2.txt", "not json")
    with pytest.raises(ExplanationsFileError, match=r"layers\.6_latent2\.txt:1: not a JSON string"):
        read_explanations(folder)
    with pytest.raises(ExplanationsFileError, match="no such file"):
        read_explanations(tmp_path / "missing.jsonl")
