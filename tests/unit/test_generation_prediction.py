import math

import pytest

from sae_interp.activations.records import Window
from sae_interp.llm import LLMError, LLMResponse, TokenLogprob
from sae_interp.scorers import generation, generation_prompts, prediction, prediction_prompts


def test_generation_metrics_by_hand() -> None:
    rate, mean, threshold = generation.generation_metrics([4.0, 1.0, 2.5, 0.0], reference=5.0)
    assert threshold == 2.5 and rate == 0.5 and mean == pytest.approx(7.5 / 4)
    rate0, mean0, _ = generation.generation_metrics([], 5.0)
    assert math.isnan(rate0) and math.isnan(mean0)


def test_generation_parsing() -> None:
    assert generation.parse_texts('Sure! {"texts": ["a cat", " ", "two cats"]}', 5) == [
        "a cat",
        "two cats",
    ]
    assert generation.parse_texts("1. one cat\n2) two cats\n3. three", 2) == ["one cat", "two cats"]
    assert generation.parse_texts("nothing", 3) is None
    bad = generation.read_texts(LLMResponse(text="no"), 3)
    assert bad.error and bad.texts == [] and bad.raw == "no"
    assert "503" in (generation.read_texts(LLMError("503"), 3).error or "")
    message = generation_prompts.user_message("cats", 10)
    assert message.startswith("Description of the latent: cats") and "Write 10 different" in message


def _w(seq: int, peak: float) -> Window:
    return Window(seq=seq, start=0, end=2, tokens=[1, 2], activations=[0.0, peak])


def test_bands_pick_high_medium_low() -> None:
    windows = [_w(i, float(i)) for i in range(1, 10)]
    chosen = prediction.bands(windows, per_band=2)
    assert [b for b, _ in chosen] == ["high"] * 2 + ["medium"] * 2 + ["low"] * 2
    assert [w.max_activation for _, w in chosen] == [9.0, 8.0, 6.0, 5.0, 3.0, 2.0]


def test_prediction_from_integers_and_from_logprobs() -> None:
    window = prediction.PredictedWindow(seq=0, start=0, band="high", true=[0.0, 3.0, 6.0])
    parsed = prediction.read_prediction(window, LLMResponse(text="[0, 5, 10]"))
    assert parsed.predicted == [0.0, 5.0, 10.0] and not parsed.from_logprobs
    lp = [
        TokenLogprob(token="[", logprob=0.0, top={}),
        TokenLogprob(token="0", logprob=math.log(0.9), top={"1": math.log(0.1)}),
        TokenLogprob(token=",", logprob=0.0, top={}),
        TokenLogprob(token=" 5", logprob=math.log(0.5), top={"4": math.log(0.5)}),
        TokenLogprob(token=",", logprob=0.0, top={}),
        TokenLogprob(token="10", logprob=0.0, top={}),
        TokenLogprob(token="]", logprob=0.0, top={}),
    ]
    expected = prediction.read_prediction(window, LLMResponse(text="[0, 5, 10]", logprobs=lp))
    assert expected.from_logprobs and expected.predicted == pytest.approx([0.1, 4.5, 10.0])
    short = prediction.read_prediction(window, LLMResponse(text="[1, 2]"))
    assert short.predicted is None and "3 integers" in (short.error or "")
    result = prediction.prediction_result([expected, short])
    assert result.n_failed == 1 and result.pearson == pytest.approx(
        float(__import__("numpy").corrcoef([0.1, 4.5, 10.0], [0.0, 3.0, 6.0])[0, 1])
    )


def test_prediction_prompt_numbers_every_token() -> None:
    message = prediction_prompts.user_message("cats", [" the", " cat"])
    assert "1 ' the'" in message and "2 ' cat'" in message
    assert message.endswith("Reply with a JSON list of 2 integers from 0 to 10.")
    request = prediction.build_request("cats", ["a"] * 100, prediction.PredictionSettings())
    assert request.max_tokens >= 400 and request.top_logprobs == 5
