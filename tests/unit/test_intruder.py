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
    intruder_metrics,
    parse_answer,
    plan_rounds,
    probability_of,
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
    windows = [(0, 1)] * 5
    outcome = IntruderOutcome(
        latent=0,
        rounds=[
            IntruderRound(
                windows=windows, intruder_latent=1, intruder_position=2, answer=2, p_correct=0.8
            ),
            IntruderRound(
                windows=windows, intruder_latent=1, intruder_position=4, answer=1, p_correct=0.2
            ),
            IntruderRound(windows=windows, intruder_latent=1, intruder_position=1, error="x"),
        ],
    )
    m = intruder_metrics(outcome)
    assert m.accuracy == 0.5 and m.p_correct == pytest.approx(0.5)
    assert m.chance == pytest.approx(0.2) and m.failed_fraction == pytest.approx(1 / 3)


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
    assert plan.calls == 9  # 3 latents x 3 rounds: no explanation, no control copies
    (out,) = run_eval(cfg, saes={"planted": sae})
    m = out.eval_result_metrics
    assert m.n_scored == 3 and set_judge.explained == 0  # no explainer call
    assert m.intruder is not None and m.intruder.accuracy.value == 1.0
    assert m.intruder.chance.value == pytest.approx(0.2)
    assert m.llm_usage["calls"] == 9  # 3 latents x 3 rounds, no control copies
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
