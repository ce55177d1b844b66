"""The notebooks in ``notebooks/`` run top to bottom on the embedded default (small sizes,
no LLM endpoint: the endpoint cell is skipped), executed with nbclient in a scratch folder."""

import json
import os
import shutil
import time
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_notebooks_are_committed_without_outputs() -> None:
    assert len(NOTEBOOKS) == 5
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path.name


@pytest.mark.integration
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SAE_INTERP_BASE_URL", "SAE_INTERP_NOTEBOOK_LLM"):
        monkeypatch.delenv(name, raising=False)
    # the kernel imports this checkout's sae_interp, whatever is installed
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    notebook = nbformat.read(copy, as_version=4)
    started = time.monotonic()
    nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(
        o.output_type in ("display_data", "execute_result") and "image/png" in o.get("data", {})
        for o in outputs
    ), "a figure is shown"
    assert (tmp_path / "notebook_results").is_dir()
    print(f"{path.name}: {time.monotonic() - started:.0f} s")
