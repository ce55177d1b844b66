"""The typed tools the agent may use: run a text through the model and SAE and read the
latent's activation at every token; look up more exemplars. Results come back as
:class:`TokenActivations` and are shown to the agent as compact tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import torch
from transformer_lens import HookedTransformer

from sae_interp.activations.records import Window
from sae_interp.agentic.schema import TokenActivations
from sae_interp.models.hooks import activations_at_hook
from sae_interp.saes.base import BaseSAE


class AgentTools(Protocol):
    def run_text(self, text: str) -> TokenActivations: ...

    def exemplars(self, offset: int, k: int) -> list[TokenActivations]: ...


class ToolError(RuntimeError):
    """A tool could not run (bad input, model failure); the agent sees the message."""


def window_activations(window: Window, tokenizer: Any) -> TokenActivations:
    tokens = window.str_tokens(tokenizer)
    return TokenActivations(text="".join(tokens), tokens=tokens, activations=window.activations)


class ModelTools:
    """Tools bound to a live model, an SAE and one latent."""

    def __init__(
        self,
        model: HookedTransformer,
        sae: BaseSAE,
        latent: int,
        exemplar_windows: Sequence[Window],
        max_tokens: int = 128,
    ) -> None:
        self.model, self.sae, self.latent = model, sae, latent
        self.windows = sorted(exemplar_windows, key=lambda w: -w.max_activation)
        self.max_tokens = max_tokens

    def activations(self, texts: Sequence[str]) -> list[TokenActivations]:
        """The latent's activation on every token of each text (BOS excluded)."""
        return [self.run_text(t) for t in texts]

    @torch.no_grad()
    def run_text(self, text: str) -> TokenActivations:
        if not text.strip():
            raise ToolError("the test text is empty")
        tokens = self.model.to_tokens(text, prepend_bos=True)
        if tokens.shape[1] - 1 > self.max_tokens:
            raise ToolError(f"the test text is longer than {self.max_tokens} tokens")
        tokens = tokens.to(self.model.W_E.device)
        acts = activations_at_hook(self.model, tokens, self.sae.cfg.hook_name)
        latent = self.sae.encode(acts.to(self.sae.dtype))[0, 1:, self.latent]
        tokenizer: Any = self.model.tokenizer
        str_tokens = [str(tokenizer.decode([t])) for t in tokens[0, 1:].tolist()]
        return TokenActivations(
            text=text, tokens=str_tokens, activations=[float(a) for a in latent.clamp(min=0)]
        )

    def exemplars(self, offset: int, k: int) -> list[TokenActivations]:
        return [
            window_activations(w, self.model.tokenizer) for w in self.windows[offset : offset + k]
        ]
