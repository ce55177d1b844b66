"""Per-latent strength search: find ``delta`` so that a monotone-ish response (the mean
next-token KL(clean || steered) over test prompts) hits a target within a tolerance. Log-scale
bracketing (doubling or halving from a start value) then bisection in log space, with a
bounded number of evaluations. Pure: the response is a function argument."""

from __future__ import annotations

import math
from collections.abc import Callable

from pydantic import BaseModel, Field


class StrengthResult(BaseModel):
    delta: float = Field(description="The strength found (the closest tried if not converged).")
    kl: float = Field(description="The response at that strength.")
    converged: bool = Field(description="Within tolerance of the target.")
    trace: list[tuple[float, float]] = Field(description="Every (delta, response) evaluated.")


def find_strength(
    response: Callable[[float], float],
    target: float,
    tolerance: float = 0.1,
    start: float = 1.0,
    max_steps: int = 12,
    factor: float = 4.0,
) -> StrengthResult:
    """Search ``delta > 0`` with ``|response(delta) - target| <= tolerance * target``."""
    if start <= 0 or target <= 0:
        raise ValueError("start and target must be positive")
    trace: list[tuple[float, float]] = []

    def evaluate(delta: float) -> float:
        value = float(response(delta))
        trace.append((delta, value))
        return value

    def done(value: float) -> bool:
        return abs(value - target) <= tolerance * target

    lo: float | None = None
    hi: float | None = None
    delta = start
    while len(trace) < max_steps:
        value = evaluate(delta)
        if done(value):
            return StrengthResult(delta=delta, kl=value, converged=True, trace=trace)
        if value < target:
            lo = delta
        else:
            hi = delta
        if lo is not None and hi is not None:
            delta = math.sqrt(lo * hi)  # bisection in log space
        elif hi is None:
            delta = delta * factor
        else:
            delta = delta / factor
    best_delta, best_value = min(trace, key=lambda dv: abs(dv[1] - target))
    return StrengthResult(delta=best_delta, kl=best_value, converged=False, trace=trace)
