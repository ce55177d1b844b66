import math

import pytest
from helpers import task_of

from sae_interp.activations.records import LatentRecord, RecordStatus, Window, WindowKind
from sae_interp.llm import LLMService, ScriptedBackend
from sae_interp.scorers import fuzzing_prompts
from sae_interp.scorers.base import ScoreItem
from sae_interp.scorers.fuzzing import (
    FuzzingScorer,
    FuzzingSettings,
    n_random_highlights,
    shown_examples,
    true_highlights,
)


def _window(seq: int, words: str, acts: list[float], tokenizer) -> Window:
    ids = tokenizer(words, add_special_tokens=False)["input_ids"]
    assert len(ids) == len(acts)
    kind = WindowKind.activating if max(acts) > 0 else WindowKind.random_negative
    return Window(seq=seq, start=1, end=1 + len(ids), tokens=ids, activations=acts, kind=kind)


@pytest.fixture
def record(tokenizer) -> LatentRecord:
    test = [
        _window(0, "the red cat sat", [0, 0, 2.0, 0], tokenizer),  # 1 highlighted
        _window(1, "a cat and a cat", [0, 1.0, 0, 0, 0.5], tokenizer),  # 2 highlighted
        _window(2, "cat cat", [1.0, 1.0], tokenizer),  # every token highlighted
    ]
    negatives = [_window(10 + i, "one two three four", [0, 0, 0, 0], tokenizer) for i in range(3)]
    return LatentRecord(
        latent=3,
        status=RecordStatus.ok,
        n_activating_windows=3,
        max_activation=2.0,
        firing_frequency=0.1,
        test=test,
        negatives=negatives,
    )


def test_highlight_counts(record: LatentRecord) -> None:
    assert [true_highlights(w) for w in record.test] == [[2], [1, 4], [0, 1]]
    assert n_random_highlights(record.test) == math.ceil(6 / 3)
    assert n_random_highlights([]) == 1


def test_default_fuzzing_marks_random_tokens_of_negatives(record, tokenizer) -> None:
    shown = shown_examples(record, tokenizer, "default", seed=0)
    positives = [s for s in shown if s.label == 1]
    negatives = [s for s in shown if s.label == 0]
    assert [s.highlighted for s in positives] == [(2,), (1, 4), (0, 1)]
    assert positives[0].text == "thered<<cat>>sat"  # the tiny tokenizer decodes without spaces
    assert len(negatives) == 3 and all(len(s.highlighted) == 2 for s in negatives)
    assert all(not s.window.is_activating for s in negatives)
    again = shown_examples(record, tokenizer, "default", seed=0)
    assert [s.highlighted for s in again] == [s.highlighted for s in shown]


def test_active_fuzzing_misplaces_highlights_on_activating_windows(record, tokenizer) -> None:
    shown = shown_examples(record, tokenizer, "active", seed=1)
    negatives = [s for s in shown if s.label == 0]
    # the all-highlighted window cannot be mis-marked and is left out
    assert [s.window.seq for s in negatives] == [0, 1]
    for s in negatives:
        truth = set(true_highlights(s.window))
        assert len(s.highlighted) == len(truth) and not truth & set(s.highlighted)
    with pytest.raises(ValueError, match="fuzz_type"):
        shown_examples(record, tokenizer, "sideways", seed=0)


def test_judge_that_checks_highlights_scores_perfectly(record, tokenizer) -> None:
    """A judge that says 1 exactly when every marked token is 'cat' is right every time."""

    def reply(request):  # type: ignore[no-untyped-def]
        assert task_of(request) == "fuzzing"
        excerpts = [
            line for line in request.messages[-1].content.splitlines() if line.startswith("Excerpt")
        ]
        labels = []
        for line in excerpts:
            marked = [part.split(">>")[0] for part in line.split("<<")[1:]]
            labels.append(int(bool(marked) and all(m.replace("cat", "") == "" for m in marked)))
        return "[" + ", ".join(map(str, labels)) + "]"

    service = LLMService(ScriptedBackend(reply))
    for fuzz_type in ("default", "active"):
        scorer = FuzzingScorer(tokenizer, service, FuzzingSettings(fuzz_type=fuzz_type), seed=0)
        (outcome,) = scorer.score([ScoreItem(record, "the word cat")])
        m = scorer.metrics(outcome)
        assert m.balanced_accuracy == 1.0 and m.n_scored == m.n_examples
    service.close()


def test_fuzzing_prompt_strings() -> None:
    assert "marked like <<this>>" in fuzzing_prompts.SYSTEM
    message = fuzzing_prompts.user_message("dogs", ["a <<dog>>", "the cat"])
    assert message.splitlines() == [
        "Explanation: dogs",
        "",
        "Excerpt 1: a <<dog>>",
        "Excerpt 2: the cat",
        "",
        "Reply with a list of 2 numbers (1 or 0).",
    ]
    assert fuzzing_prompts.DEMOS[0][1] == "[1, 0, 0]"
