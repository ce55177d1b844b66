"""What can be known about a model without loading it: enough to check an SAE's hook, width
and a context length before a model load that can take tens of seconds."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from sae_interp.base.errors import CompatibilityError
from sae_interp.models.hooks import hook_layer

# hooks whose activations have the model's width (d_model)
_RESIDUAL_WIDTH = re.compile(
    r"^blocks\.\d+\.hook_(resid_pre|resid_mid|resid_post|mlp_out|attn_out)$"
)


@dataclass(frozen=True)
class ModelFacts:
    name: str
    n_layers: int
    d_model: int
    n_ctx: int | None = None  # None when not known without the model


def facts_from_hf_config(directory: Path) -> ModelFacts | None:
    """Layers, width and context of a local Hugging Face directory (its config.json)."""
    path = directory / "config.json"
    if not path.exists():
        return None
    try:
        cfg = json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # the loader reports a broken directory itself
    cfg = cfg.get("text_config", cfg)
    n_layers = cfg.get("num_hidden_layers", cfg.get("n_layer"))
    d_model = cfg.get("hidden_size", cfg.get("n_embd"))
    if not isinstance(n_layers, int) or not isinstance(d_model, int):
        return None
    n_ctx = cfg.get("max_position_embeddings", cfg.get("n_positions"))
    return ModelFacts(str(directory), n_layers, d_model, n_ctx if isinstance(n_ctx, int) else None)


def check_hook_fits(facts: ModelFacts, hook_name: str, d_in: int, ctx_len: int | None) -> None:
    """The checks of :func:`~sae_interp.saes.check_sae_fits` that need no model: the hook's
    block exists, a residual-width hook has the SAE's ``d_in``, ``ctx_len`` fits."""
    layer = hook_layer(hook_name)
    if layer is not None and not 0 <= layer < facts.n_layers:
        raise CompatibilityError(
            f"hook {hook_name!r} is in block {layer}, but model {facts.name!r} has "
            f"{facts.n_layers} blocks (0-{facts.n_layers - 1})"
        )
    if _RESIDUAL_WIDTH.match(hook_name) and d_in != facts.d_model:
        raise CompatibilityError(
            f"SAE d_in={d_in} but activations at {hook_name!r} of {facts.name!r} have width "
            f"{facts.d_model}"
        )
    if ctx_len is not None and facts.n_ctx is not None and ctx_len > facts.n_ctx:
        raise CompatibilityError(
            f"--ctx-len {ctx_len} exceeds the context of {facts.name!r} (n_ctx={facts.n_ctx})"
        )
