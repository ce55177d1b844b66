"""Answer-bias measures of the judge evals in a known-answer run (from their outputs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from sae_interp.scorers import answer_bias, detection_prompts, fuzzing_prompts, intruder_prompts
from sae_interp.scorers.intruder import IntruderOutcome
from sae_interp.scorers.judge import JudgeOutcome

JUDGE_DEMOS = {
    "autointerp": detection_prompts.DEMOS[-1][1],
    "fuzzing": fuzzing_prompts.DEMOS[-1][1],
}


class JudgeBias(BaseModel):
    source: str
    eval: str
    mode: str
    positive_rate: float = Field(description="Fraction of examples answered 1 / Yes.")
    true_positive_fraction: float = Field(description="Fraction of examples labelled 1.")
    agreement_real_vs_shuffled: float = Field(
        description="Same answer with the real and with a shuffled explanation (1 = the "
        "answer does not depend on the explanation)."
    )
    positive_rate_by_slot: list[float] | None = Field(
        default=None, description="Batched mode: P(answer 1) at each slot of a batch."
    )
    demo_prefix_rate: float | None = Field(
        default=None, description="Batched mode: answers starting like the demo answer."
    )
    truth_prefix_rate: float | None = Field(
        default=None, description="The same for the true labels (the unbiased reference)."
    )


def _outcome(raw: Any) -> JudgeOutcome | None:
    try:
        return JudgeOutcome.model_validate(raw) if raw else None
    except ValueError:  # another scorer's outcome (e.g. SAEBench mode)
        return None


def judge_bias(
    source: str,
    eval_name: str,
    mode: str,
    per_prompt: int,
    results: Sequence[dict[str, Any]],
) -> JudgeBias | None:
    """``results``: the eval's per-latent results as stored (``outcome`` and
    ``control_outcome``)."""
    real = [o for r in results if (o := _outcome(r.get("outcome"))) is not None]
    if not real:
        return None
    pairs = [
        (a, b)
        for r in results
        if (a := _outcome(r.get("outcome"))) is not None
        and (b := _outcome(r.get("control_outcome"))) is not None
    ]
    labels = [e.label for o in real for e in o.examples]
    batched = mode == "batched"
    demo = JUDGE_DEMOS.get(eval_name, "")
    raw = [a for o in real for a in o.raw_answers]
    return JudgeBias(
        source=source,
        eval=eval_name,
        mode=mode,
        positive_rate=answer_bias.positive_rate(real),
        true_positive_fraction=sum(labels) / len(labels) if labels else float("nan"),
        agreement_real_vs_shuffled=answer_bias.answer_agreement(pairs),
        positive_rate_by_slot=answer_bias.positive_rate_by_slot(real, per_prompt)
        if batched
        else None,
        demo_prefix_rate=answer_bias.demo_prefix_rate(raw, demo) if batched and demo else None,
        truth_prefix_rate=answer_bias.truth_prefix_rate(real, demo, per_prompt)
        if batched and demo
        else None,
    )


class IntruderBias(BaseModel):
    """Which excerpt number the intruder judge names, against where the intruder was."""

    n_answered: int
    answered_by_position: list[float] = Field(description="Share of answers naming 1, 2, ...")
    truth_by_position: list[float] = Field(description="Share of rounds with the intruder there.")
    demo_answer: int = Field(description="The number the prompt's demo answers.")
    demo_answer_rate: float = Field(description="Share of answers naming the demo's number.")


def intruder_bias(results: Sequence[dict[str, Any]]) -> IntruderBias | None:
    """``results``: the intruder eval's per-latent results as stored (``outcome``)."""
    rounds = [
        r
        for result in results
        if result.get("outcome")
        for r in IntruderOutcome.model_validate(result["outcome"]).rounds
    ]
    if not rounds:
        return None
    n = max(len(r.windows) for r in rounds)
    answers = [r.answer for r in rounds]
    demo = int(intruder_prompts.DEMO_HIGHLIGHTED[1])
    answered = [a for a in answers if a is not None]
    return IntruderBias(
        n_answered=len(answered),
        answered_by_position=answer_bias.position_rates(answers, n),
        truth_by_position=answer_bias.position_rates([r.intruder_position for r in rounds], n),
        demo_answer=demo,
        demo_answer_rate=sum(a == demo for a in answered) / len(answered)
        if answered
        else float("nan"),
    )
