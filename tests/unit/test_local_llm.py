from pathlib import Path

import numpy as np
import pytest

from sae_interp.llm import LLMError
from sae_interp.llm.local import assemble_gguf, check_gguf, part_paths


def _small_gguf(path: Path) -> Path:
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), "qwen2")
    writer.add_name("tiny test model")
    writer.add_tensor("w", np.arange(64, dtype=np.float32).reshape(8, 8))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_parts_are_concatenated_in_order_and_verified(tmp_path: Path) -> None:
    whole = _small_gguf(tmp_path / "whole.gguf").read_bytes()
    cuts = [0, 100, 333, len(whole)]
    parts = []
    for i in range(3):
        part = tmp_path / f"part{i:02d}.bin"
        part.write_bytes(whole[cuts[i] : cuts[i + 1]])
        parts.append(part)
    target = assemble_gguf(parts, tmp_path / "out" / "model.gguf")
    assert target.read_bytes() == whole
    header = check_gguf(target)
    assert header["general.architecture"] == "qwen2" and header["n_tensors"] == "1"
    with pytest.raises(LLMError, match="not a valid GGUF"):
        assemble_gguf(list(reversed(parts)), tmp_path / "bad" / "model.gguf")
    assert not any((tmp_path / "bad").iterdir())  # nothing half-written is left behind


def test_missing_part_packages_are_named() -> None:
    with pytest.raises(LLMError, match="no-such-llm-part-1 is not installed"):
        part_paths(n_parts=2, package="no_such_llm_part_{index}")
