"""Prediction evaluation (simulation): from the explanation alone, a simulator predicts the
latent's activation (0-10) on every token of held-out windows from high / medium / low
activation bands; score = Pearson correlation of predictions with the true activations over
all tokens. All tokens of a window are predicted in one call. With log-probs, a prediction is
the expected value over the integer tokens' probabilities; otherwise the parsed integer."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from pydantic import BaseModel, Field

from sae_interp.activations.records import Window
from sae_interp.base import FrozenModel
from sae_interp.llm.errors import LLMError
from sae_interp.llm.types import ChatMessage, LLMRequest, LLMResponse
from sae_interp.scorers import metrics
from sae_interp.scorers import prediction_prompts as prompts


class PredictionSettings(FrozenModel):
    n_per_band: int = Field(default=2, gt=0, description="Windows per activation band.")
    top_logprobs: int = Field(default=5, ge=0, le=20, description="0 = parse integers only.")
    max_tokens: int = Field(default=200, gt=0)


class PredictedWindow(BaseModel):
    seq: int
    start: int
    band: str
    true: list[float]
    predicted: list[float] | None = None
    from_logprobs: bool = False
    raw: str | None = None
    error: str | None = None


class PredictionResult(BaseModel):
    windows: list[PredictedWindow]
    pearson: float = Field(description="Over all tokens of all windows that were read.")
    n_failed: int


def bands(test: Sequence[Window], per_band: int) -> list[tuple[str, Window]]:
    """Activating test windows ranked by max activation, cut in thirds (high, medium, low);
    ``per_band`` evenly spaced windows from each."""
    ranked = sorted(test, key=lambda w: -w.max_activation)
    third = math.ceil(len(ranked) / 3) if ranked else 0
    out = []
    for name, i in (("high", 0), ("medium", 1), ("low", 2)):
        part = ranked[i * third : (i + 1) * third]
        if not part:
            continue
        step = max(1, len(part) // per_band)
        out += [(name, w) for w in part[::step][:per_band]]
    return out


def build_request(
    explanation: str, tokens: Sequence[str], settings: PredictionSettings
) -> LLMRequest:
    return LLMRequest(
        messages=(
            ChatMessage(role="system", content=prompts.SYSTEM),
            ChatMessage(role="user", content=prompts.user_message(explanation, tokens)),
        ),
        max_tokens=max(settings.max_tokens, 4 * len(tokens)),
        top_logprobs=settings.top_logprobs,
    )


def _as_level(token: str) -> int | None:
    token = token.strip()
    return int(token) if token.isdigit() and 0 <= int(token) <= 10 else None


def expected_levels(response: LLMResponse, n: int) -> list[float] | None:
    """Expected value over the integer alternatives at each of the first ``n`` integer tokens
    of the answer; None when log-probs are missing or the integers do not line up."""
    if not response.logprobs:
        return None
    values = []
    for item in response.logprobs:
        if _as_level(item.token) is None:
            continue
        weights: dict[int, float] = {}
        for token, logprob in {**item.top, item.token: item.logprob}.items():
            level = _as_level(token)
            if level is not None:
                weights[level] = max(weights.get(level, 0.0), math.exp(logprob))
        total = sum(weights.values())
        values.append(sum(k * w for k, w in weights.items()) / total)
    return values[:n] if len(values) == n else None


def parse_levels(text: str, n: int) -> list[float] | None:
    match = re.findall(r"\[([^\[\]]*)\]", text)
    if not match:
        return None
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", match[-1])]
    if len(numbers) != n:
        return None
    return [min(10.0, max(0.0, v)) for v in numbers]


def read_prediction(window: PredictedWindow, answer: LLMResponse | LLMError) -> PredictedWindow:
    n = len(window.true)
    if isinstance(answer, LLMError):
        return window.model_copy(update={"error": str(answer)})
    window = window.model_copy(update={"raw": answer.text})
    parsed = parse_levels(answer.text, n)
    if parsed is None:
        return window.model_copy(update={"error": f"no list of {n} integers in the answer"})
    expected = expected_levels(answer, n)
    if expected is not None:
        return window.model_copy(update={"predicted": expected, "from_logprobs": True})
    return window.model_copy(update={"predicted": parsed})


def prediction_result(windows: Sequence[PredictedWindow]) -> PredictionResult:
    read = [w for w in windows if w.predicted is not None]
    predicted = [p for w in read for p in w.predicted]  # type: ignore[union-attr]
    true = [t for w in read for t in w.true]
    return PredictionResult(
        windows=list(windows),
        pearson=metrics.pearson(predicted, true),
        n_failed=len(windows) - len(read),
    )
