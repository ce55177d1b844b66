"""The contrastive explainer: the one-shot prompt's highlighted train windows next to as
many hard negatives (similar windows where the latent is zero, drawn for the explainer
only: ``LatentRecord.contrast``), asked what the active ones have that the others lack.
Its answer, parsing, settings (``--explainer-*``) and cost are the one-shot explainer's."""

from __future__ import annotations

from typing import Any

from sae_interp.activations.records import LatentRecord
from sae_interp.explainers import contrastive_prompts
from sae_interp.explainers.one_shot import OneShotSettings, shown_examples, with_demos
from sae_interp.llm.types import LLMRequest
from sae_interp.text.formatting import marked_text


def n_contrast(settings: OneShotSettings, n_train: int) -> int:
    """Contrast windows per latent: as many as train windows are shown."""
    return min(settings.max_examples, n_train)


def build_request(record: LatentRecord, tokenizer: Any, settings: OneShotSettings) -> LLMRequest:
    top, examples = shown_examples(record, tokenizer, settings)
    contrasts = [
        marked_text(tokens, [False] * len(tokens))
        for tokens in (w.str_tokens(tokenizer) for w in record.contrast[: len(examples)])
    ]
    user = contrastive_prompts.user_message(top, examples, contrasts)
    return with_demos(contrastive_prompts.SYSTEM, contrastive_prompts.DEMOS, user, settings)
