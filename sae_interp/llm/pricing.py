"""Prices in US dollars per million tokens (input, output), for the cost of a run.

The table is a starting point, not an authority: prices change. Add or override entries
with :func:`register_price` or a JSON file ``{"model": [input, output]}`` via
:func:`load_prices`. Unknown models cost 0 and are reported as unpriced.
"""

from __future__ import annotations

import json
from pathlib import Path

from sae_interp.llm.types import Usage

PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1": (2.00, 8.00),
}


def register_price(model: str, input_per_mtok: float, output_per_mtok: float) -> None:
    PRICES_PER_MTOK[model] = (input_per_mtok, output_per_mtok)


def load_prices(path: Path) -> None:
    for model, (inp, out) in json.loads(Path(path).read_text()).items():
        register_price(model, float(inp), float(out))


def price_of(model: str) -> tuple[float, float] | None:
    if model in PRICES_PER_MTOK:
        return PRICES_PER_MTOK[model]
    base = model.rsplit("/", 1)[-1]  # "openai/gpt-4o-mini" on routers
    return PRICES_PER_MTOK.get(base)


def cost_usd(model: str, usage: Usage) -> float:
    price = price_of(model)
    if price is None:
        return 0.0
    return (usage.prompt_tokens * price[0] + usage.completion_tokens * price[1]) / 1e6
