"""Which token positions are ordinary text (BOS / EOS / PAD excluded)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch


def special_token_ids(tokenizer: Any) -> list[int]:
    ids = {tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id}
    return sorted(int(i) for i in ids if i is not None)


def valid_token_mask(tokens_NL: torch.Tensor, special_ids: Sequence[int]) -> torch.Tensor:
    """True where a token is ordinary text (BOS / EOS / PAD positions are excluded)."""
    if not special_ids:
        return torch.ones_like(tokens_NL, dtype=torch.bool)
    return ~torch.isin(tokens_NL, torch.tensor(list(special_ids), device=tokens_NL.device))
