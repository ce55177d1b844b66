from pathlib import Path

from sae_interp.activations.records import LatentRecord, RecordStatus, Window
from sae_interp.explainers import structured
from sae_interp.explainers.explanations import Explanation, ExplanationStore
from sae_interp.explainers.one_shot import OneShotSettings, build_request, explain
from sae_interp.llm import LLMError, LLMService, ScriptedBackend


def _record(latent: int, tokenizer, windows: list[tuple[str, list[float]]]) -> LatentRecord:
    train = []
    for i, (text, acts) in enumerate(windows):
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert len(ids) == len(acts)
        train.append(Window(seq=i, start=1, end=1 + len(ids), tokens=ids, activations=acts))
    status = RecordStatus.ok if train else RecordStatus.too_rare
    return LatentRecord(
        latent=latent,
        status=status,
        n_activating_windows=len(train),
        max_activation=4.0,
        firing_frequency=0.1,
        train=train,
    )


def test_request_layout(tokenizer) -> None:
    record = _record(
        3, tokenizer, [("the cat sat", [0.0, 4.0, 0.0]), ("a red cat", [0.0, 1.0, 2.0])]
    )
    request = build_request(record, tokenizer, OneShotSettings(show_activations=True))
    roles = [m.role for m in request.messages]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    # the tiny word-level tokenizer decodes tokens without spaces
    assert request.messages[-1].content == (
        'Tokens where the latent peaks, with counts: "cat" (2)\n'
        "\n"
        "Example 1: the<<cat>>sat\n"
        'Activations (0-10): "cat" 10\n'
        "Example 2: a<<redcat>>\n"
        'Activations (0-10): "red" 3, "cat" 5'
    )


def test_explain_parses_records_failures_and_skips(tokenizer, tmp_path: Path) -> None:
    good = _record(1, tokenizer, [("the cat", [0.0, 2.0])])
    unparsable = _record(2, tokenizer, [("the dog", [0.0, 2.0])])
    broken = _record(4, tokenizer, [("one two", [1.0, 0.0])])
    rare = _record(5, tokenizer, [])

    def script(request):  # type: ignore[no-untyped-def]
        last = request.messages[-1].content
        if "cat" in last:
            return "cats\n[EXPLANATION]: the word cat"
        if "dog" in last:
            return "I am not sure."
        return LLMError("400 bad request")

    service = LLMService(ScriptedBackend(script))
    out = explain(
        [good, unparsable, broken, rare], tokenizer, service, OneShotSettings(), progress=False
    )
    assert [e.text for e in out] == ["the word cat", None, None, None]
    assert out[1].raw == "I am not sure." and "EXPLANATION" in (out[1].error or "")
    assert "400" in (out[2].error or "") and "too_rare" in (out[3].error or "")
    assert len(service.backend.calls) == 3  # type: ignore[attr-defined]

    store = ExplanationStore(tmp_path / "e.jsonl")
    for item in out:
        store.put(item)
    reloaded = ExplanationStore(tmp_path / "e.jsonl")
    assert len(reloaded) == 1 and reloaded.get(1) == Explanation(
        latent=1, text="the word cat", raw=out[0].raw, cost=out[0].cost
    )
    # the answer's cost stays with the explanation (the scripted backend counts words)
    assert out[0].cost is not None and out[0].cost.calls == 1
    assert out[0].cost.completion_tokens == 5 and out[0].cost.prompt_tokens > 0
    assert out[1].cost is not None and out[1].cost.calls == 1  # unreadable, still paid
    assert out[2].cost is None  # the call failed: no answer
    assert reloaded.get(2) is None and 2 not in reloaded  # failures are asked again
    assert store.failure(2) == out[1] and out[1].error_kind == "unparseable_answer"
    assert out[2].error_kind == "other" and out[3].error_kind == "no_train_windows"


def test_structured_rules_get_one_corrective_retry_and_keep_their_cost(tokenizer) -> None:
    """Readable rules at once; unreadable then corrected; unreadable twice (a recorded
    failure, not an empty rule list). The cost of both answers stays with the explanation."""
    records = [
        _record(1, tokenizer, [("the cat", [0.0, 2.0])]),
        _record(2, tokenizer, [("the dog", [0.0, 2.0])]),
        _record(3, tokenizer, [("a red", [0.0, 2.0])]),
    ]
    rules = '[{"activates_on": "cat", "strength": 4}]'

    def script(request):  # type: ignore[no-untyped-def]
        text = " ".join(m.content for m in request.messages[1:])
        corrected = len(request.messages) == 4  # system, examples, answer, correction
        if "cat" in text or ("dog" in text and corrected):
            return rules
        return "no idea"

    service = LLMService(ScriptedBackend(script))
    out = structured.explain(
        records, tokenizer, service, OneShotSettings(), structured.StructuredSettings(), False
    )
    service.close()
    assert [e.text for e in out] == ["cat (strength 4/5)", "cat (strength 4/5)", None]
    assert out[2].error_kind == "unparseable_answer" and "corrective retry" in (out[2].error or "")
    assert [e.cost.calls if e.cost else None for e in out] == [1, 2, 2]
    assert out[1].cost is not None and out[1].cost.completion_tokens == 2 + len(rules.split())
