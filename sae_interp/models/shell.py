"""A model without its weights: a HookedTransformer whose parameters sit on the meta device.

It has the loaded model's config and tokenizer, costs no memory for its weights and
propagates shapes through a forward pass (so an SAE's fit to a hook can be checked on it),
but computes nothing. A stage that only reads stored records and asks a judge uses it in
place of the model (:class:`~sae_interp.models.lazy.LazyModel`).
"""

from __future__ import annotations

from typing import Any

import torch
from transformer_lens import HookedTransformer, HookedTransformerConfig

META = "meta"


def weightless(
    cfg: HookedTransformerConfig, tokenizer: Any = None, **kwargs: Any
) -> HookedTransformer:
    """The HookedTransformer of ``cfg`` on the meta device (``cfg.device`` becomes ``meta``,
    so inputs go there too). Without ``tokenizer`` it builds ``cfg.tokenizer_name``'s, as
    TransformerLens does; ``kwargs`` go to HookedTransformer (e.g. the padding side)."""
    cfg.device = META
    with torch.device(META):
        model = HookedTransformer(cfg, tokenizer, move_to_device=False, **kwargs)
    return model.eval()


def is_weightless(model: HookedTransformer) -> bool:
    return str(model.cfg.device) == META
