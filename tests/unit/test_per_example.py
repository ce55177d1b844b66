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
    match_probability,
    parse_matches,
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
        "You find the words of a text excerpt that match a description. Reply with the "
        "matching words separated by commas, or None if no word matches."
    )
    assert prompts.FUZZING.user_message("colours", "a <<red>> cat and a <<blue>> one") == (
        'Description: colours\nWords: "red", "blue"\nDo all of these words match the description?'
    )
    request = build_request(prompts.DETECTION, "cats", "the cat", JudgeSettings(max_tokens=40))
    assert [m.role for m in request.messages] == ["system"] + ["user", "assistant"] * 4 + ["user"]
    assert [m.content for m in request.messages[2:9:2]] == ["Thursday", "None", "red, blue", "None"]
    assert request.messages[-1].content == (
        "Description: cats\nText: the cat\nWhich words of the text match the description?"
    )
    assert request.max_tokens == 3 and request.top_logprobs == 5


def test_requests_of_one_latent_share_everything_before_the_excerpt() -> None:
    """The explanation comes before the excerpt, so a prefix-caching server reuses it."""
    for p in (prompts.DETECTION, prompts.FUZZING):
        a = build_request(p, "cats", "the <<cat>> sat", JudgeSettings())
        b = build_request(p, "cats", "a <<dog>> ran", JudgeSettings())
        last_a, last_b = a.messages[-1].content, b.messages[-1].content
        assert a.messages[:-1] == b.messages[:-1]
        assert last_a.split("\n")[0] == last_b.split("\n")[0] == "Description: cats"


def test_marked_words() -> None:
    assert prompts.marked_words("the << one>> then <<two words>>.") == ["one", "two words"]
    assert prompts.marked_words("nothing marked") == []


@pytest.mark.parametrize(
    ("text", "label"),
    [("Yes", 1), (" no.", 0), ("YES, it does", 1), ("**No**", 0), ("Maybe", None), ("", None)],
)
def test_parse_yes_no(text: str, label: int | None) -> None:
    assert parse_yes_no(text) == label


@pytest.mark.parametrize(
    ("text", "label"),
    [("Thursday", 1), ("red, blue", 1), ("None", 0), (" none.", 0), ("No words", 0), ("", None)],
)
def test_parse_matches(text: str, label: int | None) -> None:
    assert parse_matches(text) == label


def test_match_probability_is_one_minus_p_none() -> None:
    top = {"None": math.log(0.3), " none": math.log(0.1), "red": math.log(0.5)}
    response = LLMResponse(
        text="red", logprobs=[TokenLogprob(token="red", logprob=math.log(0.5), top=top)]
    )
    assert match_probability(response) == pytest.approx(0.7)
    confident = LLMResponse(
        text="red", logprobs=[TokenLogprob(token="red", logprob=0.0, top={"red": 0.0})]
    )
    assert match_probability(confident) == 1.0  # "None" not among the alternatives
    assert match_probability(LLMResponse(text="red")) is None


def test_yes_probability_normalises_over_yes_and_no() -> None:
    top = {"Yes": math.log(0.6), " yes": math.log(0.1), "No": math.log(0.2), "x": -1.0}
    response = LLMResponse(
        text="Yes", logprobs=[TokenLogprob(token="Yes", logprob=math.log(0.6), top=top)]
    )
    assert yes_probability(response) == pytest.approx(0.6 / 0.8)
    assert yes_probability(LLMResponse(text="Yes")) is None


def _judge(p_yes_active: float):
    """Names "cat" in excerpts with 'cat' (P(match) = p_yes_active), otherwise None (P(match)
    = 0.3)."""

    def reply(request):
        excerpt = request.messages[-1].content.splitlines()[1]
        p = p_yes_active if "cat" in excerpt else 0.3
        text = "cat" if p >= 0.5 else "None"
        top = {"cat": math.log(p), "None": math.log(1 - p)}
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


@pytest.mark.parametrize(
    ("which", "unreadable", "error"),
    [("DETECTION", "", "the answer is empty"), ("FUZZING", "Perhaps", "neither Yes nor No")],
)
def test_unreadable_answers_are_counted_not_scored(
    record: LatentRecord, tokenizer, which: str, unreadable: str, error: str
) -> None:
    replies: list[str | BaseException] = [
        "Yes",
        unreadable,
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
        getattr(prompts, which),
    )
    (outcome,) = scorer.score([ScoreItem(record, "cats")])
    assert outcome.predictions[1] is None and outcome.predictions[2] is None
    assert error in (outcome.batch_errors[1] or "")
    assert "timeout" in (outcome.batch_errors[2] or "")
    assert outcome.predictions[0] == 1 and outcome.predictions[3] == 0
    m = judge_metrics(outcome)
    assert m.n_scored == 5 and m.failed_batch_fraction == pytest.approx(2 / 7)
    assert m.auroc is None  # no log-probs from plain text answers


def test_auto_mode_is_per_example_offline_and_batched_with_an_endpoint() -> None:
    from sae_interp.evals.autointerp import AutoInterpEvalConfig
    from sae_interp.evals.autointerp.main import DETECTION_MODES, detection_mode
    from sae_interp.evals.fuzzing.main import FUZZING_MODES
    from sae_interp.scorers.judge import resolved_mode

    offline = AutoInterpEvalConfig()
    remote = AutoInterpEvalConfig.model_validate({"llm": {"model": "gpt-4o-mini"}})
    assert offline.detection.mode == "auto" == remote.detection.mode
    assert detection_mode(offline) == "per_example" and detection_mode(remote) == "batched"
    assert resolved_mode("saebench", "local") == "saebench"  # an explicit mode stays
    assert set(DETECTION_MODES) == {"batched", "saebench", "per_example"}
    assert set(FUZZING_MODES) == {"batched", "per_example"}
