import pytest

from sae_interp.activations.records import LatentRecord, RecordStatus, Window, WindowKind
from sae_interp.llm import LLMError, LLMResponse
from sae_interp.scorers.saebench_detection import choose_examples, parse_indices, plan, read
from sae_interp.scorers.saebench_prompts import SYSTEM, user_message


def _w(seq: int, act: float) -> Window:
    kind = WindowKind.activating if act > 0 else WindowKind.random_negative
    return Window(seq=seq, start=1, end=4, tokens=[4, 5, 6], activations=[0.0, act, 0.0], kind=kind)


@pytest.fixture
def record() -> LatentRecord:
    test = [_w(i, float(i + 1)) for i in range(8)]
    negatives = [_w(100 + i, 0.0) for i in range(12)]
    return LatentRecord(
        latent=2,
        status=RecordStatus.ok,
        n_activating_windows=8,
        max_activation=8.0,
        firing_frequency=0.1,
        test=test,
        negatives=negatives,
    )


def test_fourteen_examples_with_the_top_two(record: LatentRecord) -> None:
    examples = choose_examples(record, seed=0)
    assert len(examples) == 14 and sum(y for _, y in examples) == 4
    positives = sorted(w.max_activation for w, y in examples if y == 1)
    assert positives[-2:] == [7.0, 8.0]  # the two strongest are always shown
    assert [w.seq for w, _ in choose_examples(record, seed=0)] == [w.seq for w, _ in examples]


def test_prompt_exact() -> None:
    assert user_message("cats", ["a cat", "a dog"]) == "Explanation: cats\n\n1. a cat\n2. a dog"
    assert "comma-separated" in SYSTEM and "None" in SYSTEM


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2, 5, 7", [2, 5, 7]),
        ("None", []),
        ("none.", []),
        ("Answer:\n3,1", [1, 3]),
        ("15", None),
        ("2, five", None),
        ("", None),
    ],
)
def test_parse_indices(text: str, expected: list[int] | None) -> None:
    assert parse_indices(text, 14) == expected


def test_accuracy_and_failures(record: LatentRecord, tokenizer) -> None:
    examples, request = plan(record, "numbers", tokenizer, seed=0)
    assert request.messages[-1].content.startswith("Explanation: numbers\n\n1. ")
    right = ", ".join(str(i + 1) for i, (_, y) in enumerate(examples) if y == 1)
    assert read(record, "numbers", examples, LLMResponse(text=right)).accuracy == 1.0
    assert read(record, "numbers", examples, LLMResponse(text="None")).accuracy == 10 / 14
    bad = read(record, "numbers", examples, LLMResponse(text="I think 3"))
    assert bad.accuracy is None and bad.raw_answer == "I think 3" and bad.error
    assert read(record, "numbers", examples, LLMError("timeout")).error == "timeout"
