"""Answer-bias measures of the judge evals in a known-answer run (from their outputs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from sae_interp.scorers import answer_bias, detection_prompts, fuzzing_prompts
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
