"""The committed JSON schemas (``schemas/``) match the eval output classes."""

import json
from pathlib import Path

from sae_interp.schemas import DEFAULT_DIR, eval_schemas, main, outdated


def test_committed_schemas_are_up_to_date() -> None:
    stale = outdated(DEFAULT_DIR)
    assert not stale, f"schemas out of date: {stale}; run `make schemas` and commit schemas/"


def test_check_notices_a_changed_or_missing_schema(tmp_path: Path) -> None:
    assert main(["--output-dir", str(tmp_path)]) == 0
    names = sorted(p.stem for p in tmp_path.glob("*.json"))
    assert names == sorted(eval_schemas())
    assert main(["--output-dir", str(tmp_path), "--check"]) == 0
    schema = json.loads((tmp_path / "core.json").read_text())
    assert schema["title"] == "CoreEvalOutput" and "eval_result_metrics" in schema["properties"]
    schema["properties"].pop("eval_id")
    (tmp_path / "core.json").write_text(json.dumps(schema, indent=2) + "\n")
    (tmp_path / "autointerp.json").unlink()
    assert outdated(tmp_path) == ["autointerp.json", "core.json"]
    assert main(["--output-dir", str(tmp_path), "--check"]) == 1
