"""The agent's state machine with scripted replies and fake tools (no model, no LLM)."""

import json

import pytest

from sae_interp.agentic.controller import AgentController, AgentSettings
from sae_interp.agentic.parsing import ReplyError, extract_json
from sae_interp.agentic.prompts import analyze_exemplars, analyze_result, design_test, review
from sae_interp.agentic.schema import State, TokenActivations
from sae_interp.agentic.tools import ToolError
from sae_interp.llm import LLMError

HYPOTHESES = {
    "hypotheses": [
        {"statement": "the word cat", "negative_control": False},
        {"statement": "animals in general", "negative_control": False},
        {"statement": "numbers", "negative_control": True},
    ]
}


class FakeTools:
    """The latent fires on 'cat' (activation 5 per occurrence)."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.ran: list[str] = []
        self.fail_on = fail_on

    def run_text(self, text: str) -> TokenActivations:
        self.ran.append(text)
        if self.fail_on and self.fail_on in text:
            raise ToolError("the test text is longer than 128 tokens")
        words = text.split()
        return TokenActivations(
            text=text, tokens=words, activations=[5.0 if w == "cat" else 0.0 for w in words]
        )

    def exemplars(self, offset: int, k: int) -> list[TokenActivations]:
        texts = ["the cat sat", "a cat ran", "my cat"][offset : offset + k]
        return [self.run_text(t) for t in texts]


def which(messages) -> str:  # type: ignore[no-untyped-def]
    last = messages[-1].content
    if "could not be used" in last:
        return "correction"
    for key, marker in [
        ("analyze", "Propose at least three"),
        ("design", "Design one new test"),
        ("result", "Judge the hypothesis"),
        ("review", "Review the evidence"),
        ("final", "Write the final explanation"),
    ]:
        if marker in last:
            return key
    raise AssertionError(last)


class Scripted:
    """Answers by state; ``overrides`` maps a state to a list of answers used first."""

    def __init__(self, **overrides) -> None:  # type: ignore[no-untyped-def]
        self.overrides = {k: list(v) for k, v in overrides.items()}
        self.seen: list[str] = []

    def __call__(self, messages):  # type: ignore[no-untyped-def]
        state = which(messages)
        if state == "correction":
            state = which(messages[:-2]) + "_retry"
        self.seen.append(state)
        if self.overrides.get(state):
            return self.overrides[state].pop(0)
        base = state.removesuffix("_retry")
        return {
            "analyze": json.dumps(HYPOTHESES),
            "design": '{"text": "the cat and the cat", "expected": "high"}',
            "result": '{"verdict": "CONFIRMED", "reason": "fired on cat"}',
            "review": '{"conclude": true, "next_hypothesis": null, "new_hypothesis": null}',
            "final": '{"description": "the token cat", "evidence": ["T1"], "labels": ["cat"]}',
        }[base]


def run(llm, tools=None, **settings):  # type: ignore[no-untyped-def]
    cfg = AgentSettings(**({"max_rounds": 6, "min_tests": 3} | settings))
    return AgentController(llm, tools or FakeTools(), cfg, latent=7).run()


def test_happy_path() -> None:
    llm = Scripted()
    t = run(llm)
    assert t.conclusion is not None and t.conclusion.description == "the token cat"
    assert not t.conclusion.forced and t.stop_reason == "concluded"
    assert [h.negative_control for h in t.hypotheses] == [False, False, True]
    assert len(t.tests) == 3 and all(x.result.max_activation == 5.0 for x in t.tests)
    states = [s.state for s in t.steps]
    assert states[:2] == [State.GET_EXEMPLARS, State.ANALYZE_EXEMPLARS]
    assert states[2:5] == [State.DESIGN_TEST, State.RUN_TEST, State.ANALYZE_RESULT]
    assert states[-2:] == [State.REVIEW, State.FINAL_CONCLUSION]
    assert t.exemplar_mean_max == 5.0 and "<<cat>>" in t.steps[0].tool_result
    assert all(s.error is None for s in t.steps)


def test_review_cannot_conclude_before_min_tests() -> None:
    t = run(Scripted(), min_tests=5, max_rounds=20)
    assert t.stop_reason == "concluded" and len(t.tests) == 6  # two passes of 3 hypotheses
    assert [s.state for s in t.steps].count(State.REVIEW) == 2


def test_malformed_reply_gets_one_corrective_retry() -> None:
    llm = Scripted(analyze=["I think it is about cats."], design=['{"text": ""}'])
    t = run(llm)
    assert llm.seen[:3] == ["analyze", "analyze_retry", "design"]
    assert llm.seen[3] == "design_retry"
    first = t.steps[1]
    assert first.error is None and len(first.raw) == 2 and first.parsed is not None
    assert t.conclusion is not None and not t.conclusion.forced


def test_repeated_failures_force_a_conclusion() -> None:
    garbage = ["no json here"] * 20
    llm = Scripted(design=garbage, design_retry=garbage)
    t = run(llm, max_failures=2)
    assert t.stop_reason == "failures" and t.conclusion is not None and t.conclusion.forced
    assert (
        t.tests == []
        and [s.error for s in t.steps if s.state == State.DESIGN_TEST]
        == ["no JSON object found in the reply"] * 2
    )
    # the final conclusion could still be written (the LLM answers that state fine)
    assert t.conclusion.description == "the token cat"


def test_unusable_final_answer_falls_back_to_the_best_hypothesis() -> None:
    llm = Scripted(final=["nope"], final_retry=["still nope"], result=['{"verdict": "REFUTED"}'])
    t = run(llm)
    assert t.conclusion.forced and t.conclusion.description == "animals in general"
    assert t.conclusion.evidence == ["H2 CONFIRMED"]


def test_round_budget_is_enforced() -> None:
    never = '{"conclude": false, "next_hypothesis": 2, "new_hypothesis": null}'
    llm = Scripted(review=[never] * 10)
    t = run(llm, max_rounds=4)
    assert t.stop_reason == "max_rounds" and len(t.tests) == 4 and t.conclusion.forced
    # review's choice goes first in the next pass
    assert t.tests[3].hypothesis_id == 2


def test_llm_errors_and_tool_errors_count_as_failures() -> None:
    tools = FakeTools(fail_on="and the cat")
    t = run(Scripted(), tools=tools, max_failures=2)
    assert t.stop_reason == "failures"
    assert [x.error for x in t.tests] == ["the test text is longer than 128 tokens"] * 2
    t2 = run(lambda messages: LLMError("503 after retries"), max_failures=2)
    assert t2.hypotheses == [] and t2.conclusion is None and t2.stop_reason == "failures"
    assert all("503" in (s.error or "") for s in t2.steps[1:])


def test_new_hypothesis_from_review_is_tested_next() -> None:
    new = '{"conclude": false, "next_hypothesis": null, "new_hypothesis": "the word dog"}'
    t = run(Scripted(review=[new]), max_rounds=10)
    assert t.hypotheses[-1].statement == "the word dog" and t.hypotheses[-1].id == 4
    assert t.tests[3].hypothesis_id == 4


def test_refined_verdict_updates_the_statement() -> None:
    refined = '{"verdict": "REFINED", "reason": "only cats", "refined_statement": "cat tokens"}'
    t = run(Scripted(result=[refined]))
    assert t.hypotheses[0].statement == "cat tokens" and t.hypotheses[0].history == ["the word cat"]


def test_parsers_validate() -> None:
    assert extract_json('ok ```json\n{"a": {"b": 1}}\n``` done') == {"a": {"b": 1}}
    assert extract_json('x {"a": 1} y {"b": 2}') == {"b": 2}
    with pytest.raises(ReplyError, match="at least 3"):
        analyze_exemplars.parse('{"hypotheses": ["a", "b"]}')
    with pytest.raises(ReplyError, match="negative control"):
        analyze_exemplars.parse('{"hypotheses": ["a", "b", "c"]}')
    with pytest.raises(ReplyError, match="expected"):
        design_test.parse('{"text": "hi", "expected": "maybe"}')
    assert design_test.parse('{"text": "hi", "expected": "HIGH"}')["expected"] == "high"
    with pytest.raises(ReplyError, match="refined_statement"):
        analyze_result.parse('{"verdict": "refined"}')
    with pytest.raises(ReplyError, match="conclude"):
        review.parse('{"conclude": "yes"}')


def test_review_can_ask_for_more_exemplars() -> None:
    more = '{"conclude": false, "more_exemplars": true}'
    t = run(Scripted(review=[more]), top_k=2, max_rounds=10)
    assert [e.text for e in t.exemplars] == ["the cat sat", "a cat ran", "my cat"]
    assert [s.state for s in t.steps].count(State.GET_EXEMPLARS) == 2
    assert t.exemplar_mean_max == 5.0  # the reference scale stays that of the first top-k
