"""Prices in US dollars per million tokens (input, output), for the cost of a run, and the
batch price of each model (OpenAI's Batch API, like Anthropic's and Gemini's, halves both).

The table is a starting point, not an authority: prices change. Add or override entries
with :func:`register_price` or a JSON file ``{"model": [input, output]}`` (or ``[input,
output, batch input, batch output]``) via :func:`load_prices`. Unknown models cost 0 and are
reported as unpriced.
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


# batch price = this fraction of the standard price, unless a model has its own batch price
BATCH_DISCOUNT = 0.5
BATCH_PRICES_PER_MTOK: dict[str, tuple[float, float]] = {}


def register_price(
    model: str,
    input_per_mtok: float,
    output_per_mtok: float,
    batch: tuple[float, float] | None = None,
) -> None:
    """Price ``model`` per million input and output tokens; ``batch`` gives its batch prices
    (default: :data:`BATCH_DISCOUNT` of the standard ones)."""
    PRICES_PER_MTOK[model] = (input_per_mtok, output_per_mtok)
    if batch is not None:
        BATCH_PRICES_PER_MTOK[model] = batch
    else:
        BATCH_PRICES_PER_MTOK.pop(model, None)


def load_prices(path: Path) -> None:
    """Register the prices of a JSON file ``{"model": [input, output]}`` or ``{"model":
    [input, output, batch input, batch output]}``; a bad file is one error naming it."""
    try:
        table = json.loads(Path(path).read_text())
        for model, values in table.items():
            numbers = [float(v) for v in values]
            if len(numbers) not in (2, 4):
                raise ValueError(f"{model}: give 2 or 4 prices, got {len(numbers)}")
            batch = (numbers[2], numbers[3]) if len(numbers) == 4 else None
            register_price(model, numbers[0], numbers[1], batch)
    except (OSError, ValueError, TypeError, AttributeError) as err:
        raise ValueError(
            f"{path}: not a price file ({err}); expected "
            '{"model": [input, output]} or [input, output, batch input, batch output] '
            "in dollars per million tokens"
        ) from None


def price_of(model: str) -> tuple[float, float] | None:
    if model in PRICES_PER_MTOK:
        return PRICES_PER_MTOK[model]
    base = model.rsplit("/", 1)[-1]  # "openai/gpt-4o-mini" on routers
    return PRICES_PER_MTOK.get(base)


def batch_price_of(model: str) -> tuple[float, float] | None:
    price = price_of(model)
    if price is None:
        return None
    base = model if model in PRICES_PER_MTOK else model.rsplit("/", 1)[-1]
    own = BATCH_PRICES_PER_MTOK.get(base)
    return own if own is not None else (price[0] * BATCH_DISCOUNT, price[1] * BATCH_DISCOUNT)


def cost_usd(model: str, usage: Usage, batch: bool = False) -> float:
    """What ``usage`` costs with ``model`` at its standard (or ``batch``) prices; 0 for an
    unpriced model."""
    price = batch_price_of(model) if batch else price_of(model)
    if price is None:
        return 0.0
    return (usage.prompt_tokens * price[0] + usage.completion_tokens * price[1]) / 1e6
