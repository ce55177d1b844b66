"""Parse a judge's list of 0/1 labels, and read per-label probabilities from log-probs."""

from __future__ import annotations

import math
import re

from sae_interp.llm.types import LLMResponse

_LIST = re.compile(r"\[\s*([01](?:\s*,\s*[01])*)\s*\]")


def parse_labels(text: str, n: int) -> list[int] | None:
    """The last bracketed list of 0/1 in ``text`` if it has exactly ``n`` items, else None."""
    matches = _LIST.findall(text)
    if not matches:
        return None
    labels = [int(v) for v in re.findall(r"[01]", matches[-1])]
    return labels if len(labels) == n else None


def label_probabilities(response: LLMResponse, n: int) -> list[float] | None:
    """P("1") / (P("0") + P("1")) at each of the first ``n`` 0/1 tokens of the answer, from
    the top log-probs; None when the backend gave no log-probs or too few label tokens."""
    if not response.logprobs:
        return None
    probs: list[float] = []
    for item in response.logprobs:
        if item.token.strip() not in ("0", "1"):
            continue
        alternatives: dict[str, float] = {}
        for token, logprob in {**item.top, item.token: item.logprob}.items():
            key = token.strip()
            if key in ("0", "1"):
                alternatives[key] = max(alternatives.get(key, -math.inf), logprob)
        p1 = math.exp(alternatives.get("1", -math.inf))
        p0 = math.exp(alternatives.get("0", -math.inf))
        probs.append(p1 / (p0 + p1))
        if len(probs) == n:
            return probs
    return None
