"""An SAE's shape read from its files, without loading its weights: what the runner checks
(hook, width, latent ids) before the model is loaded, and the one clear error for a broken
``cfg.json`` or weights file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sae_interp.base.errors import SpecError
from sae_interp.saes.base import CONFIG_FILE, FORMAT_KEY, SAEConfig


def read_cfg_json(directory: Path) -> dict[str, Any]:
    """``directory/cfg.json`` as a dict; a missing or malformed file names the path."""
    path = directory / CONFIG_FILE
    if not path.exists():
        raise SpecError(f"{directory} holds no {CONFIG_FILE}; not an SAE directory")
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise SpecError(
            f"{path}, line {err.lineno} column {err.colno}: not valid JSON ({err.msg})"
        ) from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: expected a JSON object, got a {type(raw).__name__}")
    return raw


def sae_config_from(directory: Path) -> SAEConfig:
    """The :class:`SAEConfig` of an sae_interp SAE directory, naming the path and the
    missing or bad keys when ``cfg.json`` does not describe an SAE."""
    raw = dict(read_cfg_json(directory))
    raw.pop(FORMAT_KEY, None)
    try:
        return SAEConfig.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: "
            + ("missing" if e["type"] == "missing" else e["msg"])
            for e in err.errors()
        )
        raise SpecError(
            f"{directory / CONFIG_FILE} does not describe an SAE ({problems})"
        ) from None


def check_weights_file(path: Path) -> None:
    """Read the safetensors header of ``path`` (no tensor is read) so that a missing,
    truncated or corrupt file is reported by name before any model is loaded."""
    if not path.exists():
        raise SpecError(f"{path} does not exist; the SAE directory has no weights")
    size = path.stat().st_size
    try:
        with path.open("rb") as handle:
            header_len = int.from_bytes(handle.read(8), "little")
            if size < 8 or header_len > size - 8:
                raise ValueError("the header is cut off")
            header = json.loads(handle.read(header_len))
        ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
        raise SpecError(f"{path} is not a readable safetensors file ({err})") from None
    if 8 + header_len + max(ends, default=0) > size:
        raise SpecError(
            f"{path} is truncated ({size} bytes, the header promises "
            f"{8 + header_len + max(ends)}); save or download the SAE again"
        )


def shape_of(directory: Path) -> tuple[int, int, str | None]:
    """(d_in, d_sae, hook name) of an SAE directory, sae_interp or sae-lens format."""
    raw = read_cfg_json(directory)
    if FORMAT_KEY in raw:
        cfg = sae_config_from(directory)
        return cfg.d_in, cfg.d_sae, cfg.hook_name
    missing = [k for k in ("d_in", "d_sae") if not isinstance(raw.get(k), int)]
    if missing:
        raise SpecError(f"{directory / CONFIG_FILE} is missing {', '.join(missing)}")
    hook = raw.get("hook_name") or (raw.get("metadata") or {}).get("hook_name")
    return int(raw["d_in"]), int(raw["d_sae"]), hook if isinstance(hook, str) else None
