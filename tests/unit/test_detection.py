import math

import pytest

from sae_interp.activations.records import LatentRecord, RecordStatus, Window, WindowKind
from sae_interp.llm import LLMError, LLMResponse, LLMService, ScriptedBackend, TokenLogprob
from sae_interp.scorers.detection import (
    DetectionSettings,
    arrange,
    build_request,
    detection_metrics,
    score_latent,
)


def _window(seq: int, words: str, tokenizer, active: bool, qbin: int | None = None) -> Window:
    ids = tokenizer(words, add_special_tokens=False)["input_ids"]
    acts = [1.0 if active else 0.0] * len(ids)
    kind = WindowKind.activating if active else WindowKind.random_negative
    return Window(
        seq=seq,
        start=1,
        end=1 + len(ids),
        tokens=ids,
        activations=acts,
        kind=kind,
        quantile_bin=qbin,
    )


@pytest.fixture
def record(tokenizer) -> LatentRecord:
    test = [_window(i, "the red cat", tokenizer, True, qbin=i % 2) for i in range(6)]
    negatives = [_window(100 + i, "one two three", tokenizer, False) for i in range(4)]
    return LatentRecord(
        latent=9,
        status=RecordStatus.ok,
        n_activating_windows=6,
        max_activation=1.0,
        firing_frequency=0.1,
        test=test,
        negatives=negatives,
    )


def test_arrange_is_a_seeded_shuffle_in_batches(record: LatentRecord) -> None:
    batches = arrange(record, seed=0, per_prompt=4)
    assert [len(b) for b in batches] == [4, 4, 2]
    flat = [(w.seq, y) for batch in batches for w, y in batch]
    unshuffled = [(i, 1) for i in range(6)] + [(100 + i, 0) for i in range(4)]
    assert sorted(flat) == sorted(unshuffled) and flat != unshuffled
    again = [(w.seq, y) for batch in arrange(record, seed=0, per_prompt=4) for w, y in batch]
    other = [(w.seq, y) for batch in arrange(record, seed=1, per_prompt=4) for w, y in batch]
    assert again == flat and other != flat


def test_request_shows_plain_text(record: LatentRecord, tokenizer) -> None:
    request = build_request("cats", ["the red cat", "one two"], DetectionSettings())
    assert request.messages[-1].content.startswith(
        "Explanation: cats\n\nExcerpt 1: the red cat\nExcerpt 2: one two"
    )
    assert request.top_logprobs == 5
    assert "<<" not in request.messages[-1].content


def _oracle(request):  # type: ignore[no-untyped-def]
    """Says 1 exactly for excerpts mentioning a cat."""
    lines = [
        line for line in request.messages[-1].content.splitlines() if line.startswith("Excerpt")
    ]
    return "[" + ", ".join("1" if "cat" in line else "0" for line in lines) + "]"


def test_perfect_judge_scores_one(record: LatentRecord, tokenizer) -> None:
    service = LLMService(ScriptedBackend(_oracle))
    outcome = score_latent(
        record, "cats", tokenizer, service, DetectionSettings(n_examples_per_prompt=3), seed=0
    )
    m = detection_metrics(outcome)
    assert m.balanced_accuracy == 1.0 and m.f1 == 1.0 and m.n_scored == 10
    assert m.failed_batch_fraction == 0.0 and m.auroc is None  # no log-probs from this backend
    assert m.recall_by_quantile == {0: 1.0, 1: 1.0}


def test_failed_and_malformed_batches_are_recorded_not_scored(
    record: LatentRecord, tokenizer
) -> None:
    # two batches of five; calls are made in batch order
    service = LLMService(ScriptedBackend(["[1, 1, 1, 1, 1]", "garbage"]))
    outcome = score_latent(record, "cats", tokenizer, service, DetectionSettings(), seed=0)
    m = detection_metrics(outcome)
    assert m.n_examples == 10 and m.n_scored == 5 and m.failed_batch_fraction == 0.5
    assert outcome.predictions[5:] == [None] * 5 and outcome.raw_answers == [
        "[1, 1, 1, 1, 1]",
        "garbage",
    ]
    assert outcome.batch_errors[0] is None and "no list of 5" in (outcome.batch_errors[1] or "")
    service = LLMService(ScriptedBackend([LLMError("500 after retries"), "[0, 0, 0]"]))
    outcome = score_latent(record, "cats", tokenizer, service, DetectionSettings(), seed=0)
    assert "500" in (outcome.batch_errors[0] or "") and outcome.raw_answers[0] is None
    assert detection_metrics(outcome).n_scored == 0  # the 3-item answer does not fit 5 examples
    assert math.isnan(detection_metrics(outcome).balanced_accuracy)


def test_probabilities_give_auroc(record: LatentRecord, tokenizer) -> None:
    def judge(request):  # type: ignore[no-untyped-def]
        text = _oracle(request)
        logprobs = []
        for ch in text:
            if ch in "01":
                p1 = 0.9 if ch == "1" else 0.2
                top = {"1": math.log(p1), "0": math.log(1 - p1)}
                logprobs.append(TokenLogprob(token=ch, logprob=top[ch], top=top))
        return LLMResponse(text=text, logprobs=logprobs)

    outcome = score_latent(
        record, "cats", tokenizer, LLMService(ScriptedBackend(judge)), DetectionSettings(), seed=1
    )
    m = detection_metrics(outcome)
    assert m.auroc == 1.0
    assert sorted({round(p, 6) for p in outcome.probabilities if p is not None}) == [0.2, 0.9]
