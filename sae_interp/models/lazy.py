"""The model of a run, its weights loaded on first use.

A run needs the model's weights only to compute: collecting latent activations, core
metrics, interventions. Reading stored latent caches, drawing records and asking a judge
need only its config (the cache key, the result's provenance) and its tokenizer. Those come
from the model without its weights (:func:`~sae_interp.models.loading.model_shell`) where
the spec's resolver can build it, so such a stage (a judge-only latent shard on a CPU
worker, a rerun whose caches are all stored) never loads the weights.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import torch
from transformer_lens import HookedTransformer, HookedTransformerConfig

from sae_interp.models.loading import load_model, model_shell

logger = logging.getLogger(__name__)


class LazyModel:
    """``spec`` on ``device`` in ``dtype``, loaded by :meth:`get` the first time; or a model
    already loaded (:meth:`of`)."""

    def __init__(self, spec: str, device: torch.device, dtype: str | torch.dtype) -> None:
        self.spec, self.device, self.dtype = spec, device, dtype
        self._model: HookedTransformer | None = None
        self._shell: HookedTransformer | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, model: HookedTransformer, spec: str) -> LazyModel:
        lazy = cls(spec, torch.device(str(model.cfg.device)), model.cfg.dtype)
        lazy._model = model
        return lazy

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def get(self) -> HookedTransformer:
        """The model with its weights (loaded now if it was not)."""
        with self._lock:
            if self._model is None:
                self._model = load_model(self.spec, device=self.device, dtype=self.dtype)
                self._shell = None
            return self._model

    def weightless(self) -> HookedTransformer:
        """The loaded model, else the model without its weights (on the meta device: it
        computes nothing), else, where the spec's resolver cannot build that, the model
        loaded now."""
        with self._lock:
            model = self._model or self._shell
            if model is None:
                self._shell = model_shell(self.spec, self.dtype)
                model = self._shell
        return model if model is not None else self.get()

    @property
    def cfg(self) -> HookedTransformerConfig:
        """The model's config (its ``device`` is ``meta`` while the weights are not loaded)."""
        return self.weightless().cfg

    @property
    def tokenizer(self) -> Any:
        return self.weightless().tokenizer
