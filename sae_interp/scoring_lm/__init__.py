"""Scoring LMs: per-token log-probs of texts after a shared prefix (in-process TransformerLens
model, or a completions server with prompt log-probs), found through a registry."""

from __future__ import annotations

from typing import Any

from sae_interp.scoring_lm.base import (
    SCORING_LMS,
    ScoringLM,
    ScoringLMSettings,
    TokenLogprobs,
    char_spans,
    tokens_in_spans,
)


def _in_process(settings: ScoringLMSettings, model: Any, model_spec: str) -> ScoringLM:
    from sae_interp.models import load_model
    from sae_interp.models.lazy import LazyModel
    from sae_interp.scoring_lm.transformer_lens_lm import TransformerLensScoringLM

    if isinstance(model, LazyModel):  # the eval's model, loaded only if it is the one
        if settings.model != model_spec:
            return TransformerLensScoringLM(
                load_model(settings.model, device=model.device), settings.batch_size
            )
        model = model.get()
    if settings.model != model_spec or model is None:
        model = load_model(settings.model, device=str(model.cfg.device) if model else "auto")
    return TransformerLensScoringLM(model, settings.batch_size)


def _server(settings: ScoringLMSettings, model: Any, model_spec: str) -> ScoringLM:
    from sae_interp.scoring_lm.completions_server import CompletionsScoringLM

    return CompletionsScoringLM(
        settings.model,
        settings.base_url,
        settings.api_key_env,
        concurrency=settings.batch_size,
        timeout_s=settings.timeout_s,
    )


SCORING_LMS.register("model", _in_process)
SCORING_LMS.register("openai", _server)


def load_scoring_lm(
    settings: ScoringLMSettings, model: Any = None, model_spec: str = ""
) -> ScoringLM:
    """The scoring LM of ``settings``; the eval's ``model`` (a HookedTransformer or a
    :class:`~sae_interp.models.lazy.LazyModel`) is reused when it is the same."""
    return SCORING_LMS.get(settings.backend)(settings, model, model_spec)


__all__ = [
    "SCORING_LMS",
    "ScoringLM",
    "ScoringLMSettings",
    "TokenLogprobs",
    "char_spans",
    "load_scoring_lm",
    "tokens_in_spans",
]
