"""``random-weights:SPEC[@SEED]``: a model with the architecture, tokenizer, token embeddings
and unembedding of ``SPEC`` and every transformer block (and the final norm) re-initialised
at random, seeded.

This is the control of Heap et al. (2025, "Sparse autoencoders can interpret randomly
initialized transformers"): an SAE trained on such a model, evaluated like one trained on the
real model, shows how much of an interpretability score the data and token identity give
without any learned computation. Keeping the embeddings is their "re-randomised excluding
embeddings" variant: token identity survives, learned mixing does not.

Weight matrices are drawn from N(0, ``initializer_range``) as the model's own initialiser
does, biases are zeroed and norm scales set to 1 (identity). The model is renamed
(``<name>-random-weights-<seed>``) so that no cache keyed by the model name mixes it up with
the trained one.
"""

from __future__ import annotations

import torch
from transformer_lens import HookedTransformer

from sae_interp.base.errors import SpecError

PREFIX = "random-weights:"
KEPT = ("embed.", "pos_embed.", "unembed.")  # token identity in and out


def split_spec(spec: str) -> tuple[str, int]:
    """(inner model spec, seed) of ``random-weights:SPEC[@SEED]`` (seed 0 when absent)."""
    body = spec.removeprefix(PREFIX)
    inner, at, seed = body.rpartition("@")
    if not at:
        return body, 0
    try:
        return inner, int(seed)
    except ValueError:
        raise SpecError(f"model spec {spec!r}: the seed after '@' must be an integer") from None


def randomize_weights(model: HookedTransformer, seed: int) -> HookedTransformer:
    """Re-initialise ``model``'s blocks and final norm in place (see the module docstring)."""
    generator = torch.Generator().manual_seed(seed)
    std = float(model.cfg.initializer_range)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.startswith(KEPT):
                continue
            leaf = name.rsplit(".", 1)[-1].lstrip("_")
            if leaf.startswith("W_"):
                drawn = torch.randn(param.shape, generator=generator) * std
                param.copy_(drawn.to(device=param.device, dtype=param.dtype))
            elif leaf.startswith("b_") or leaf == "b":  # biases, layer norm shift
                param.zero_()
            elif leaf == "w":  # RMS / layer norm scale
                param.fill_(1.0)
            else:
                raise SpecError(f"cannot re-initialise parameter {name!r} of this model")
    model.cfg.model_name = random_weights_name(model.cfg.model_name, seed)
    return model


def random_weights_name(model_name: str, seed: int) -> str:
    """The model name of ``model_name``'s random-weights control with ``seed``."""
    return f"{model_name}-random-weights-{seed}"
