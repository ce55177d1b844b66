"""Per-example judging (one excerpt per request, Yes/No, P(Yes) -> AUROC): exact prompts,
answer parsing, probabilities, and a scripted judge on a hand-built record."""

import math

import pytest

from sae_interp.activations.records import LatentRecord, RecordStatus, Window, WindowKind
from sae_interp.llm import LLMError, LLMResponse, LLMService, ScriptedBackend, TokenLogprob
from sae_interp.scorers import per_example_prompts as prompts
from sae_interp.scorers.base import ScoreItem
from sae_interp.scorers.detection import shown_examples
from sae_interp.scorers.judge import JudgeSettings, judge_metrics
from sae_interp.scorers.per_example import (
    PerExampleScorer,
    build_request,
    parse_yes_no,
    yes_probability,
)


def _window(seq: int, words: str, tokenizer, active: bool) -> Window:
    ids = tokenizer(words, add_special_tokens=False)["input_ids"]
    return Window(
        seq=seq,
        start=1,
        end=1 + len(ids),
        tokens=ids,
        activations=[1.0 if active else 0.0] * len(ids),
        kind=WindowKind.activating if active else WindowKind.random_negative,
        quantile_bin=0 if active else None,
    )


@pytest.fixture
def record(tokenizer) -> LatentRecord:
    return LatentRecord(
        latent=3,
        status=RecordStatus.ok,
        n_activating_windows=4,
        max_activation=1.0,
        firing_frequency=0.1,
        test=[_window(i, "the red cat", tokenizer, True) for i in range(4)],
        negatives=[_window(10 + i, "one two three", tokenizer, False) for i in range(3)],
    )


def test_prompts_exact() -> None:
    assert prompts.DETECTION.system == (
        "You check explanations of latents (learned features) of a language model. You get an "
        "explanation and one text excerpt. Answer Yes if the excerpt contains what the "
        "explanation describes, No if it does not. Reply with only Yes or No."
    )
    assert prompts.FUZZING.user_message("colours", "a <<red>> cat") == (
        "Explanation: colours\nExcerpt: a <<red>> cat\n"
        "Are the marked tokens what the explanation describes?"
    )
    request = build_request(prompts.DETECTION, "cats", "the cat", JudgeSettings(max_tokens=40))
    assert [m.role for m in request.messages] == ["system", "user", "assistant"] * 1 + [
        "user",
        "assistant",
        "user",
    ]
    assert [m.content for m in request.messages[2:5:2]] == ["Yes", "No"]
    assert request.messages[-1].content == (
        "Explanation: cats\nExcerpt: the cat\n"
        "Does the excerpt contain what the explanation describes?"
    )
    assert request.max_tokens == 3 and request.top_logprobs == 5


@pytest.mark.parametrize(
    ("text", "label"),
    [("Yes", 1), (" no.", 0), ("YES, it does", 1), ("**No**", 0), ("Maybe", None), ("", None)],
)
def test_parse_yes_no(text: str, label: int | None) -> None:
    assert parse_yes_no(text) == label


def test_yes_probability_normalises_over_yes_and_no() -> None:
    top = {"Yes": math.log(0.6), " yes": math.log(0.1), "No": math.log(0.2), "x": -1.0}
    response = LLMResponse(
        text="Yes", logprobs=[TokenLogprob(token="Yes", logprob=math.log(0.6), top=top)]
    )
    assert yes_probability(response) == pytest.approx(0.6 / 0.8)
    assert yes_probability(LLMResponse(text="Yes")) is None


def _judge(p_yes_active: float):
    """Yes for excerpts with 'cat' (P(Yes) = p_yes_active), No otherwise (P(Yes) = 0.3)."""

    def reply(request):
        excerpt = request.messages[-1].content.splitlines()[1]
        p = p_yes_active if "cat" in excerpt else 0.3
        text = "Yes" if p >= 0.5 else "No"
        top = {"Yes": math.log(p), "No": math.log(1 - p)}
        return LLMResponse(
            text=text, logprobs=[TokenLogprob(token=text, logprob=top[text], top=top)]
        )

    return reply


def test_scripted_judge_one_request_per_example(record: LatentRecord, tokenizer) -> None:
    backend = ScriptedBackend(_judge(0.9))
    scorer = PerExampleScorer(
        tokenizer,
        LLMService(backend),
        JudgeSettings(),
        0,
        lambda r: shown_examples(r, tokenizer),
        prompts.DETECTION,
    )
    (outcome,) = scorer.score([ScoreItem(record, "cats")])
    assert len(backend.calls) == 7 == len(outcome.examples) == len(outcome.raw_answers)
    m = judge_metrics(outcome)
    assert m.auroc == 1.0 and m.balanced_accuracy == 1.0 and m.failed_batch_fraction == 0.0
    planned = scorer.planned_requests(ScoreItem(record, "cats"))
    assert sorted(r.model_dump_json() for r in planned) == sorted(
        r.model_dump_json() for r in backend.calls
    )


def test_unreadable_answers_are_counted_not_scored(record: LatentRecord, tokenizer) -> None:
    replies: list[str | BaseException] = [
        "Yes",
        "Perhaps",
        LLMError("timeout"),
        "No",
        "No",
        "Yes",
        "no",
    ]
    scorer = PerExampleScorer(
        tokenizer,
        LLMService(ScriptedBackend(replies), concurrency=1),
        JudgeSettings(),
        0,
        lambda r: shown_examples(r, tokenizer),
        prompts.DETECTION,
    )
    (outcome,) = scorer.score([ScoreItem(record, "cats")])
    assert outcome.predictions[1] is None and outcome.predictions[2] is None
    assert "neither Yes nor No" in (outcome.batch_errors[1] or "")
    assert "timeout" in (outcome.batch_errors[2] or "")
    m = judge_metrics(outcome)
    assert m.n_scored == 5 and m.failed_batch_fraction == pytest.approx(2 / 7)
    assert m.auroc is None  # no log-probs from plain text answers
