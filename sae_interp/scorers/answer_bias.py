"""Pure checks of a judge's answers for bias (no LLM): does the answer depend on the slot in
the batch, copy the few-shot demo's answer, or stay the same whatever the explanation?"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sae_interp.scorers.judge import JudgeOutcome, parse_labels


def positive_rate_by_slot(outcomes: Sequence[JudgeOutcome], per_prompt: int) -> list[float]:
    """P(answer 1) at each slot 0..per_prompt-1 of a batch, over every scored example (nan
    for a slot with none). Examples are stored batch after batch, each batch full but the
    last, so an example's slot is its index modulo ``per_prompt``. Without position bias
    every slot shows about the same rate (the shuffle spreads labels over slots)."""
    hits, totals = [0] * per_prompt, [0] * per_prompt
    for outcome in outcomes:
        for i, prediction in enumerate(outcome.predictions):
            if prediction is None:
                continue
            hits[i % per_prompt] += prediction
            totals[i % per_prompt] += 1
    return [h / t if t else math.nan for h, t in zip(hits, totals, strict=True)]


def demo_prefix_rate(raw_answers: Sequence[str | None], demo_answer: str, n: int = 2) -> float:
    """Fraction of readable list answers whose first ``n`` labels equal the demo answer's
    first ``n`` (e.g. answers starting "[1, 0" after a "[1, 0, 1]" demo); nan when none."""
    prefix = (_any_labels(demo_answer) or [])[:n]
    matches, total = 0, 0
    for answer in raw_answers:
        if answer is None:
            continue
        labels = _any_labels(answer)
        if labels is None or len(labels) < len(prefix):
            continue
        total += 1
        matches += labels[: len(prefix)] == prefix
    return matches / total if total else math.nan


def _any_labels(text: str) -> list[int] | None:
    for n in range(1, 64):
        labels = parse_labels(text, n)
        if labels is not None:
            return labels
    return None


def truth_prefix_rate(
    outcomes: Sequence[JudgeOutcome], demo_answer: str, per_prompt: int, n: int = 2
) -> float:
    """The same rate for the true labels of each batch (batches of ``per_prompt``): what an
    unbiased, always-right judge would show."""
    answers = []
    for outcome in outcomes:
        labels = [e.label for e in outcome.examples]
        for start in range(0, len(labels), per_prompt):
            answers.append("[" + ", ".join(map(str, labels[start : start + per_prompt])) + "]")
    return demo_prefix_rate(answers, demo_answer, n)


def _keyed(outcome: JudgeOutcome) -> dict[tuple[int, int, int, tuple[int, ...]], int]:
    return {
        (e.seq, e.start, e.label, tuple(e.highlighted or ())): p
        for e, p in zip(outcome.examples, outcome.predictions, strict=True)
        if p is not None
    }


def answer_agreement(
    pairs: Sequence[tuple[JudgeOutcome, JudgeOutcome]],
) -> float:
    """Fraction of examples answered the same with the real explanation and with a
    shuffled one (pairs of outcomes of the same latent); nan when none are comparable.
    Near 1: the answers do not depend on the explanation."""
    same, total = 0, 0
    for real, control in pairs:
        a, b = _keyed(real), _keyed(control)
        for key in a.keys() & b.keys():
            same += a[key] == b[key]
            total += 1
    return same / total if total else math.nan


def positive_rate(outcomes: Sequence[JudgeOutcome]) -> float:
    """Fraction of scored examples answered 1 / Yes."""
    answered = [p for o in outcomes for p in o.predictions if p is not None]
    return sum(answered) / len(answered) if answered else math.nan


def position_rates(positions: Sequence[int | None], n_positions: int) -> list[float]:
    """Fraction of the given 1-based positions (None skipped) at each of 1..n_positions:
    for a multiple-choice judge, how often it names each position, to set against how often
    each position holds the right answer (a judge that prefers a slot, or the demo's answer,
    shows a peak there); nan everywhere when none is given."""
    counts = [0] * n_positions
    for p in positions:
        if p is not None and 1 <= p <= n_positions:
            counts[p - 1] += 1
    total = sum(counts)
    return [c / total if total else math.nan for c in counts]
