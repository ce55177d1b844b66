"""Windows (short token spans with a latent's activation at each token), the fixed window layout
over a latent cache, and latent records (the train / test / negative windows of one latent)."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from enum import Enum
from typing import Any

import torch
from pydantic import BaseModel, Field

# token id -> its text, per tokenizer: every prompt shows windows token by token, and one
# decode call per token per prompt was most of the CPU spent building prompts
_TOKEN_TEXT: weakref.WeakKeyDictionary[Any, dict[int, str]] = weakref.WeakKeyDictionary()


# A window can span two documents of the corpus stream: the BOS (or other special token)
# between them is shown as a paragraph break, not as its markup ("<bos>"), which judges and
# explainers would otherwise read as part of the text.
DOCUMENT_BREAK = "\n\n"


def _token_text(tokenizer: Any, token: int, special: set[int]) -> str:
    return DOCUMENT_BREAK if token in special else str(tokenizer.decode([token]))


def token_texts(tokenizer: Any, tokens: list[int]) -> list[str]:
    """The text of each token on its own (``tokenizer.decode([t])``; special tokens such as
    BOS as :data:`DOCUMENT_BREAK`), memoised per tokenizer."""
    special = set(getattr(tokenizer, "all_special_ids", None) or ())
    try:
        known = _TOKEN_TEXT.setdefault(tokenizer, {})
    except TypeError:  # a tokenizer that cannot be weakly referenced: no memo
        return [_token_text(tokenizer, t, special) for t in tokens]
    out = []
    for t in tokens:
        text = known.get(t)
        if text is None:
            text = known[t] = _token_text(tokenizer, t, special)
        out.append(text)
    return out


class WindowKind(str, Enum):
    activating = "activating"
    random = "random"  # any window; may contain activations
    random_negative = "random_negative"
    similar = "similar"  # near activating windows in embedding space; may contain activations
    similar_negative = "similar_negative"
    neighbour_negative = "neighbour_negative"


class Window(BaseModel):
    seq: int
    start: int
    end: int  # exclusive
    tokens: list[int]
    activations: list[float]
    kind: WindowKind = WindowKind.activating
    quantile_bin: int | None = Field(
        default=None, description="Activation quantile bin of an activating window (0 = top)."
    )

    @property
    def max_activation(self) -> float:
        return max(self.activations, default=0.0)

    @property
    def is_activating(self) -> bool:
        return self.kind == WindowKind.activating

    def str_tokens(self, tokenizer: Any) -> list[str]:
        return token_texts(tokenizer, self.tokens)


class RecordStatus(str, Enum):
    ok = "ok"
    too_rare = "too_rare"
    dead = "dead"
    out_of_range = "out_of_range"  # a requested latent id the SAE does not have


class LatentRecord(BaseModel):
    latent: int
    status: RecordStatus
    n_activating_windows: int
    max_activation: float
    firing_frequency: float
    train: list[Window] = Field(default_factory=list)
    test: list[Window] = Field(default_factory=list)
    negatives: list[Window] = Field(default_factory=list)
    contrast: list[Window] = Field(
        default_factory=list,
        description="Hard negatives shown only to a contrastive explainer: similar windows "
        "where the latent is zero, none of them a train, test or negative window.",
    )

    @property
    def test_with_negatives(self) -> list[Window]:
        return self.test + self.negatives


@dataclass
class WindowGrid:
    """The fixed window layout over a cache: window w covers seq w // per_seq."""

    n_seqs: int
    ctx_len: int
    window_len: int
    first: int  # first position covered (1 when every row starts with BOS)

    @property
    def per_seq(self) -> int:
        return (self.ctx_len - self.first) // self.window_len

    @property
    def n_windows(self) -> int:
        return self.n_seqs * self.per_seq

    def span(self, window: int) -> tuple[int, int, int]:
        seq, j = divmod(window, self.per_seq)
        start = self.first + j * self.window_len
        return seq, start, start + self.window_len

    def window_max(self, seq: torch.Tensor, pos: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        """[n_windows] max activation per window from sparse entries."""
        rel = pos.long() - self.first
        j = torch.div(rel, self.window_len, rounding_mode="floor")
        keep = (rel >= 0) & (j < self.per_seq)
        ids = seq.long()[keep] * self.per_seq + j[keep]
        out = torch.zeros(self.n_windows, dtype=torch.float32)
        return out.scatter_reduce_(0, ids, value.float()[keep], reduce="amax", include_self=True)
