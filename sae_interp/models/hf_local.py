"""Load a causal LM from a local Hugging Face directory into TransformerLens."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from transformer_lens import HookedTransformer

from sae_interp.base.errors import SpecError

logger = logging.getLogger(__name__)


def tl_name_from_dir(directory: Path) -> str:
    """The TransformerLens architecture name recorded in a HF directory's config.json."""
    config_path = directory / "config.json"
    if not config_path.exists():
        raise SpecError(f"{directory} has no config.json; is it a Hugging Face model directory?")
    config = json.loads(config_path.read_text())
    name = config.get("_name_or_path") or ""
    if not name or Path(name).exists():
        raise SpecError(
            f"cannot tell which TransformerLens architecture {directory} is; "
            f"write the spec as '{directory}#<transformer-lens model name>'"
        )
    return str(name)


def load_hf_dir(
    directory: Path, tl_name: str, *, device: torch.device, dtype: torch.dtype
) -> HookedTransformer:
    """Load weights and tokenizer from ``directory`` and wrap them in a HookedTransformer.

    Weights are loaded without TransformerLens' weight processing, so activations at every
    hook equal the Hugging Face model's and SAEs trained on either match.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    logger.info("loading %s from %s", tl_name, directory)
    hf_model = AutoModelForCausalLM.from_pretrained(
        str(directory), dtype=dtype, local_files_only=True
    )
    tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
    model = HookedTransformer.from_pretrained_no_processing(
        tl_name,
        hf_model=hf_model,
        tokenizer=tokenizer,
        device=str(device),
        dtype=dtype,
    )
    del hf_model
    model.eval()
    return model
