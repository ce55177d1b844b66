"""Batched next-token distributions and sampling for prompts of different lengths (left
padding with an attention mask; the key/value cache carries generation). Python loops run
over generated positions only, never over prompts or tokens of a prompt."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformer_lens import HookedTransformer
from transformer_lens.cache.key_value_cache import TransformerLensKeyValueCache


def left_pad(
    prompts: Sequence[Sequence[int]], pad_id: int, device: torch.device | str
) -> tuple[torch.Tensor, torch.Tensor]:
    """(tokens, attention mask), both [batch, longest], prompts right-aligned."""
    width = max(len(p) for p in prompts)
    tokens = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        tokens[row, width - len(prompt) :] = torch.tensor(list(prompt), dtype=torch.long)
        mask[row, width - len(prompt) :] = 1
    return tokens.to(device), mask.to(device)


def _pad_id(model: HookedTransformer) -> int:
    tok = model.tokenizer
    pad = getattr(tok, "pad_token_id", None) if tok is not None else None
    return int(pad if pad is not None else 0)


@torch.inference_mode()
def next_token_logprobs(
    model: HookedTransformer, prompts: Sequence[Sequence[int]], batch_size: int = 16
) -> torch.Tensor:
    """[n_prompts, vocab] log-probabilities of the token after each prompt (float32)."""
    out = []
    for i in range(0, len(prompts), batch_size):
        tokens, mask = left_pad(prompts[i : i + batch_size], _pad_id(model), model.W_E.device)
        logits = model(tokens, attention_mask=mask)[:, -1].float()
        out.append(torch.log_softmax(logits, dim=-1))
    return torch.cat(out)


@torch.inference_mode()
def sample_continuations(
    model: HookedTransformer,
    prompts: Sequence[Sequence[int]],
    n_tokens: int,
    temperature: float = 1.0,
    seed: int = 0,
    batch_size: int = 16,
) -> list[list[int]]:
    """``n_tokens`` sampled after each prompt (greedy when temperature is 0), seeded so that
    the same call gives the same continuations."""
    gen = torch.Generator(device=model.W_E.device).manual_seed(seed)
    results: list[list[int]] = []
    for i in range(0, len(prompts), batch_size):
        chunk = prompts[i : i + batch_size]
        tokens, mask = left_pad(chunk, _pad_id(model), model.W_E.device)
        cache = TransformerLensKeyValueCache.init_cache(model.cfg, model.W_E.device, len(chunk))
        logits = model(tokens, attention_mask=mask, past_kv_cache=cache)[:, -1]
        new: list[torch.Tensor] = []
        for step in range(n_tokens):
            if temperature > 0:
                probs = torch.softmax(logits.float() / temperature, dim=-1)
                nxt = torch.multinomial(probs, 1, generator=gen)
            else:
                nxt = logits.argmax(dim=-1, keepdim=True)
            new.append(nxt)
            if step + 1 < n_tokens:
                ones = torch.ones_like(nxt)
                logits = model(nxt, attention_mask=ones, past_kv_cache=cache)[:, -1]
        results += torch.cat(new, dim=1).tolist()
    return results
