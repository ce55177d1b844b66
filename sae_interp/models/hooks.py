"""Hook-point helpers: validate hook names, run a model only as far as a hook, and tell which
token positions are ordinary text (BOS / EOS / PAD excluded)."""

from __future__ import annotations

import contextlib
import difflib
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from transformer_lens import HookedTransformer

from sae_interp.base.errors import CompatibilityError

_LAYER_RE = re.compile(r"^blocks\.(\d+)\.")


def hook_layer(hook_name: str) -> int | None:
    """Block index a hook lives in; None for hooks outside the blocks (embed, ln_final)."""
    match = _LAYER_RE.match(hook_name)
    return int(match.group(1)) if match else None


def check_hook(model: HookedTransformer, hook_name: str) -> None:
    if hook_name in model.hook_dict:
        return
    close = difflib.get_close_matches(hook_name, list(model.hook_dict), n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise CompatibilityError(
        f"hook {hook_name!r} does not exist in model {model.cfg.model_name!r} "
        f"({model.cfg.n_layers} layers).{hint}"
    )


def stop_layer(model: HookedTransformer, hook_name: str) -> int | None:
    """The ``stop_at_layer`` that still computes ``hook_name`` (None = run everything)."""
    layer = hook_layer(hook_name)
    if layer is not None:
        return layer + 1
    if hook_name in ("hook_embed", "hook_pos_embed"):
        return 0
    return None


@contextlib.contextmanager
def hooks_attached(
    model: HookedTransformer, hooks: list[tuple[str, Callable[..., torch.Tensor | None]]]
) -> Iterator[None]:
    """Attach forward hooks for the duration of the block; always removed on exit."""
    try:
        for name, fn in hooks:
            model.add_hook(name, fn)
        yield
    finally:
        model.reset_hooks(including_permanent=False)


_FORWARD_LOCK = threading.RLock()


@torch.no_grad()
def activations_at_hook(
    model: HookedTransformer, tokens_BL: torch.Tensor, hook_name: str
) -> torch.Tensor:
    """Activations at ``hook_name`` for a batch, running no further than needed."""
    captured: dict[str, torch.Tensor] = {}

    def grab(act: torch.Tensor, hook: object) -> torch.Tensor:
        captured["act"] = act
        return act

    # hooks are attached to the shared model: one forward at a time, so that a forward in
    # another thread (several latents of the agentic eval at once) never calls this grab
    with _FORWARD_LOCK, hooks_attached(model, [(hook_name, grab)]):
        model(tokens_BL, stop_at_layer=stop_layer(model, hook_name))
    return captured["act"]


def special_token_ids(tokenizer: Any) -> list[int]:
    ids = {tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id}
    return sorted(int(i) for i in ids if i is not None)


def valid_token_mask(tokens_NL: torch.Tensor, special_ids: Sequence[int]) -> torch.Tensor:
    """True where a token is ordinary text (BOS / EOS / PAD positions are excluded)."""
    if not special_ids:
        return torch.ones_like(tokens_NL, dtype=torch.bool)
    return ~torch.isin(tokens_NL, torch.tensor(list(special_ids), device=tokens_NL.device))
