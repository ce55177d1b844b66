"""The intruder scorer: exact prompts, seeded rounds, answer parsing and probabilities, and
the intruder eval end to end on a planted SAE of the tiny model with a set-aware judge."""

import math
from pathlib import Path

import pytest

from sae_interp.activations.records import LatentRecord, RecordStatus, Window
from sae_interp.evals.intruder import IntruderEvalConfig, run_eval
from sae_interp.evals.intruder.main import DEFINITION
from sae_interp.framework.runner import plan_per_sae
from sae_interp.llm import LLMResponse, TokenLogprob
from sae_interp.scorers import intruder_prompts
from sae_interp.scorers.intruder import (
    IntruderOutcome,
    IntruderRound,
    IntruderSettings,
    debiased_round,
    intruder_metrics,
    parse_answer,
    plan_rounds,
    presentations,
    probability_of,
    read_round,
)
from sae_interp.testing import TINY_MODEL_SPEC
from sae_interp.testing.set_judge import SetJudge, register_set_judge, tiny_planted_sae


def test_prompt_exact() -> None:
    assert intruder_prompts.user_message(["a <<b>>", "c"]) == (
        "Excerpt 1: a <<b>>\nExcerpt 2: c\n\nWhich excerpt is the intruder? Reply with its number."
    )
    assert intruder_prompts.SYSTEM_PLAIN == (
        "You look at text excerpts. All of them but one share something: a word, a kind of "
        "token, a pattern or a topic. The other one is the intruder. Reply with only the "
        "number of the intruder."
    )
    assert intruder_prompts.DEMO_HIGHLIGHTED[1] == intruder_prompts.DEMO_PLAIN[1] == "3"


def _record(latent: int, n: int) -> LatentRecord:
    test = [
        Window(seq=latent * 100 + i, start=1, end=3, tokens=[5, 6], activations=[1.0, 0.0])
        for i in range(n)
    ]
    return LatentRecord(
        latent=latent,
        status=RecordStatus.ok,
        n_activating_windows=n,
        max_activation=1.0,
        firing_frequency=0.1,
        test=test,
    )


def test_rounds_are_seeded_and_place_one_intruder() -> None:
    pool = {0: _record(0, 9), 1: _record(1, 5), 2: _record(2, 5)}
    settings = IntruderSettings(n_activating=4, n_rounds=3)
    rounds = plan_rounds(pool[0], pool, settings, seed=0)
    assert rounds == plan_rounds(pool[0], pool, settings, seed=0)
    assert rounds != plan_rounds(pool[0], pool, settings, seed=1)
    seen = set()
    for windows, other, position in rounds:
        assert len(windows) == 5 and other in (1, 2) and 1 <= position <= 5
        assert windows[position - 1].seq // 100 == other
        own = [w.seq for i, w in enumerate(windows) if i != position - 1]
        assert all(s // 100 == 0 for s in own)
        seen.update(own)
    assert len(seen) == 9  # 12 slots cycle through all 9 test windows
    assert plan_rounds(pool[0], {0: pool[0]}, settings, seed=0) == []  # no other latent


def test_parse_and_probability() -> None:
    assert parse_answer("3", 5) == 3 and parse_answer("Excerpt 2.", 5) == 2
    assert parse_answer("7", 5) is None and parse_answer("none", 5) is None
    top = {"2": math.log(0.5), "3": math.log(0.3), " 4": math.log(0.1), "a": -0.1}
    response = LLMResponse(text="2", logprobs=[TokenLogprob(token="2", logprob=top["2"], top=top)])
    assert probability_of(response, 3, 5) == pytest.approx(0.3 / 0.9)
    assert probability_of(LLMResponse(text="2"), 3, 5) is None


def test_metrics_hand_computed() -> None:
    windows = [(0, k) for k in range(5)]
    outcome = IntruderOutcome(
        latent=0,
        rounds=[  # three rounds, one prompt each (no rotation): debiased = raw
            IntruderRound(
                round=0,
                windows=windows,
                intruder_latent=1,
                intruder_position=2,
                answer=2,
                p_correct=0.8,
                option_probs=[0.05, 0.8, 0.05, 0.05, 0.05],
            ),
            IntruderRound(
                round=1,
                windows=windows,
                intruder_latent=1,
                intruder_position=4,
                answer=1,
                p_correct=0.2,
                option_probs=[0.6, 0.1, 0.05, 0.2, 0.05],
            ),
            IntruderRound(
                round=2, windows=windows, intruder_latent=1, intruder_position=1, error="x"
            ),
        ],
    )
    m = intruder_metrics(outcome)
    assert m.accuracy == 0.5 and m.raw_accuracy == 0.5
    assert m.p_correct == pytest.approx(0.5) and m.raw_p_correct == pytest.approx(0.5)
    assert m.chance == pytest.approx(0.2) and m.failed_fraction == pytest.approx(1 / 3)
    assert m.n_rounds == 3 and m.n_answered == 2 and m.answered_last == 0.0


def test_each_round_is_shown_at_every_position() -> None:
    pool = {k: _record(k, 6) for k in range(3)}
    settings = IntruderSettings(n_activating=4, n_rounds=2)
    shown = presentations(pool[0], pool, settings, seed=0)
    assert len(shown) == 2 * 5  # every round rotated through the 5 positions
    for index in range(2):
        rotations = [(w, pos) for w, _, pos, r in shown if r == index]
        assert sorted(pos for _, pos in rotations) == [1, 2, 3, 4, 5]
        for window in rotations[0][0]:  # every excerpt takes every position once
            places = sorted(next(i for i, x in enumerate(w) if x is window) for w, _ in rotations)
            assert places == [0, 1, 2, 3, 4]
        intruders = {id(w[pos - 1]) for w, pos in rotations}
        assert len(intruders) == 1  # the same intruder window, wherever it stands
    unrotated = presentations(pool[0], pool, IntruderSettings(n_rounds=2, rotate=False), seed=0)
    assert [(w, o, p) for w, o, p, _ in unrotated] == plan_rounds(pool[0], pool, settings, 0)


def _answered_rotations(judge, with_logprobs: bool) -> list[IntruderRound]:  # type: ignore[no-untyped-def]
    """One round of 5 excerpts, rotated, answered by ``judge(position of the intruder) ->
    (named number, P(number) per number)``."""
    pool = {k: _record(k, 6) for k in range(3)}
    out = []
    for windows, other, position, index in presentations(
        pool[0], pool, IntruderSettings(n_activating=4), seed=3
    ):
        named, probs = judge(position)
        top = {str(k): math.log(p) for k, p in enumerate(probs, 1)}
        logprobs = [TokenLogprob(token=str(named), logprob=top[str(named)], top=top)]
        answer = LLMResponse(text=str(named), logprobs=logprobs if with_logprobs else None)
        out.append(read_round(windows, other, position, answer, index))
    return out


@pytest.mark.parametrize("with_logprobs", [True, False])
def test_a_judge_that_always_names_the_last_excerpt_scores_chance(with_logprobs: bool) -> None:
    prompts = _answered_rotations(lambda pos: (5, [0.025, 0.025, 0.025, 0.025, 0.9]), with_logprobs)
    m = intruder_metrics(IntruderOutcome(latent=0, rounds=prompts))
    assert m.accuracy == pytest.approx(0.2) and m.chance == pytest.approx(0.2)  # a 5-way tie
    assert m.raw_accuracy == pytest.approx(0.2) and m.answered_last == 1.0
    last = [r for r in prompts if r.intruder_position == 5]
    assert len(last) == 1 and last[0].answer == 5  # raw: right whenever the intruder is last
    if with_logprobs:
        assert m.p_correct == pytest.approx(0.2) and m.raw_p_correct == pytest.approx(0.2)
    else:
        assert m.p_correct is None


@pytest.mark.parametrize("with_logprobs", [True, False])
def test_a_judge_that_knows_the_intruder_scores_one(with_logprobs: bool) -> None:
    def knows(position: int) -> tuple[int, list[float]]:
        return position, [0.8 if k == position else 0.05 for k in range(1, 6)]

    prompts = _answered_rotations(knows, with_logprobs)
    m = intruder_metrics(IntruderOutcome(latent=0, rounds=prompts))
    assert m.accuracy == 1.0 and m.raw_accuracy == 1.0
    credit, p = debiased_round(prompts)
    assert credit == 1.0
    if with_logprobs:  # log-odds of 0.8 vs 0.05 per rotation: softmax over mean log-probs
        assert p == pytest.approx(0.8 / (0.8 + 4 * 0.05)) and m.p_correct == pytest.approx(p)


def test_a_position_habit_on_top_of_knowledge_is_cancelled() -> None:
    """A judge that leans to the last number but gives the intruder more than the others
    picks it after debiasing, even where its raw answer is the last excerpt."""

    def leaning(position: int) -> tuple[int, list[float]]:
        probs = [0.1, 0.1, 0.1, 0.1, 0.6]
        probs[position - 1] *= 2.5
        total = sum(probs)
        probs = [p / total for p in probs]
        return max(range(1, 6), key=lambda k: probs[k - 1]), probs

    m = intruder_metrics(IntruderOutcome(latent=0, rounds=_answered_rotations(leaning, True)))
    assert m.raw_accuracy == pytest.approx(0.2)  # raw: right only when the intruder is last
    # the intruder's 2.5x edge at every position is all that is left: 2.5 / (2.5 + 4)
    assert m.accuracy == 1.0 and m.p_correct == pytest.approx(2.5 / 6.5)


@pytest.fixture
def set_judge() -> SetJudge:
    return register_set_judge()


def test_intruder_eval_finds_intruders_of_planted_latents(
    set_judge: SetJudge, tiny_model, tokenizer, tmp_path: Path, corpus_file: Path
) -> None:
    sae = tiny_planted_sae(tiny_model)
    cfg = IntruderEvalConfig.model_validate(
        {
            "model": TINY_MODEL_SPEC,
            "saes": ["planted"],
            "corpus": str(corpus_file),
            "n_tokens": 2048,
            "ctx_len": 33,
            "device": "cpu",
            "output_dir": tmp_path,
            "latents": [0, 1, 2],
            "sampling": {"window_len": 8, "n_train": 4, "n_test": 8, "n_negatives": 4},
            "llm": {"backend": "set-judge", "cache": False},
        }
    )
    (plan,) = plan_per_sae(DEFINITION, cfg, saes={"planted": sae})
    assert plan.calls == 15  # 3 latents x 1 round x 5 rotations: no explanation, no control
    (out,) = run_eval(cfg, saes={"planted": sae})
    m = out.eval_result_metrics
    assert m.n_scored == 3 and set_judge.explained == 0  # no explainer call
    assert m.intruder is not None and m.intruder.accuracy.value == 1.0
    assert m.intruder.chance.value == pytest.approx(0.2)
    assert m.llm_usage["calls"] == 15  # 3 latents x 5 rotations, no control copies
    assert m.intruder.raw_accuracy.value == 1.0
    for row in out.eval_result_details:
        assert row.explanation is None and row.control_metrics is None


def test_intruder_runs_in_evals_all(
    set_judge: SetJudge, tiny_model, tmp_path: Path, corpus_file: Path
) -> None:
    from sae_interp.evals.all import AllEvalConfig
    from sae_interp.evals.all import run_eval as run_all

    cfg = AllEvalConfig.model_validate(
        {
            "model": TINY_MODEL_SPEC,
            "saes": ["planted"],
            "evals": ["intruder", "autointerp"],
            "corpus": str(corpus_file),
            "n_tokens": 2048,
            "ctx_len": 33,
            "device": "cpu",
            "output_dir": tmp_path,
            "latents": [0, 1, 2],
            "detection": {"mode": "per_example"},
            "sampling": {"window_len": 8, "n_train": 4, "n_test": 8, "n_negatives": 4},
            "llm": {"backend": "set-judge", "cache": False},
        }
    )
    (out,) = run_all(cfg, saes={"planted": tiny_planted_sae(tiny_model)})
    assert set_judge.explained == 3  # explanations only for autointerp
    for row in out.eval_result_details:
        assert set(row.metrics) == {"intruder", "autointerp"} and row.explanation
        assert set(row.control_metrics) == {"autointerp"}
