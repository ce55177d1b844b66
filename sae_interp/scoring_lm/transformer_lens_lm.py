"""In-process scoring with a TransformerLens model. The prefix runs once; its key/value
cache is shared (broadcast, not copied) by every batch of continuations, which are
right-padded so padding never affects real positions."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import torch
from transformer_lens import HookedTransformer
from transformer_lens.cache.key_value_cache import TransformerLensKeyValueCache

from sae_interp.scoring_lm.base import TokenLogprobs


def _offsets(tokenizer: Any, text: str) -> tuple[list[int], list[int]]:
    """Token ids of ``text`` (no special tokens) and each token's start offset."""
    try:
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids, mapping = list(enc["input_ids"]), enc["offset_mapping"]
        return ids, [int(start) for start, _ in mapping]
    except (NotImplementedError, KeyError, TypeError, ValueError):
        ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
        return ids, [len(tokenizer.decode(ids[:i])) for i in range(len(ids))]


class TransformerLensScoringLM:
    def __init__(self, model: HookedTransformer, batch_size: int = 8) -> None:
        self.model = model
        self.batch_size = batch_size

    def identity(self) -> str:
        return f"transformer-lens:{self.model.cfg.model_name}"

    @torch.inference_mode()
    def _prefix_cache(self, prefix: str) -> tuple[TransformerLensKeyValueCache, torch.Tensor]:
        device = self.model.cfg.device
        tokens = self.model.to_tokens(prefix, prepend_bos=True).to(device)
        cache = TransformerLensKeyValueCache.init_cache(self.model.cfg, device, 1)
        logits = self.model(tokens, past_kv_cache=cache)
        cache.freeze()
        return cache, torch.log_softmax(logits[0, -1].float(), dim=-1)

    @staticmethod
    def _broadcast(cache: TransformerLensKeyValueCache, n: int) -> TransformerLensKeyValueCache:
        entries = [
            dataclasses.replace(
                e,
                past_keys=e.past_keys.expand(n, -1, -1, -1),
                past_values=e.past_values.expand(n, -1, -1, -1),
                frozen=True,
            )
            for e in cache.entries
        ]
        mask = cache.previous_attention_mask.expand(n, -1)
        return TransformerLensKeyValueCache(entries, mask, frozen=True)

    @torch.inference_mode()
    def continuation_logprobs(
        self, prefix: str, continuations: Sequence[str]
    ) -> list[TokenLogprobs]:
        cache, first = self._prefix_cache(prefix)
        encoded = [_offsets(self.model.tokenizer, text) for text in continuations]
        out: list[TokenLogprobs] = []
        for i in range(0, len(encoded), self.batch_size):
            out += self._batch(cache, first, encoded[i : i + self.batch_size])
        return out

    def _batch(
        self,
        cache: TransformerLensKeyValueCache,
        first: torch.Tensor,
        encoded: list[tuple[list[int], list[int]]],
    ) -> list[TokenLogprobs]:
        device = self.model.cfg.device
        width = max(1, max(len(ids) for ids, _ in encoded))
        used = cache.previous_attention_mask.shape[1]
        if used + width > self.model.cfg.n_ctx:
            raise ValueError(
                f"prefix ({used} tokens) + text ({width} tokens) exceed the scoring model's "
                f"context of {self.model.cfg.n_ctx} tokens; use a shorter window or another model"
            )
        tokens = torch.zeros((len(encoded), width), dtype=torch.long, device=device)
        mask = torch.zeros_like(tokens)
        for row, (ids, _) in enumerate(encoded):
            tokens[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            mask[row, : len(ids)] = 1
        logits = self.model(
            tokens, past_kv_cache=self._broadcast(cache, len(encoded)), attention_mask=mask
        )
        # token j is predicted at position j - 1; token 0 by the prefix's last position
        lp = torch.empty(tokens.shape, dtype=torch.float32, device=device)
        lp[:, 0] = first[tokens[:, 0]]
        if width > 1:
            nxt = tokens[:, 1:].unsqueeze(-1)
            shifted = logits[:, :-1].float()
            lp[:, 1:] = (shifted.gather(-1, nxt) - torch.logsumexp(shifted, -1, keepdim=True))[
                ..., 0
            ]
        values = lp.cpu().tolist()
        return [
            TokenLogprobs(values[row][: len(ids)], offsets)
            for row, (ids, offsets) in enumerate(encoded)
        ]
