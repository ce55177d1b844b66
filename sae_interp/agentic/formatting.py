"""Compact tables of evidence shown to the agent (and written to the log)."""

from __future__ import annotations

from collections.abc import Sequence

from sae_interp.agentic.schema import Hypothesis, TestRecord, TokenActivations
from sae_interp.text.formatting import display_token, highlighted_text


def exemplar_table(exemplars: Sequence[TokenActivations]) -> str:
    lines = ["#  | max  | text (<<strongly active tokens>>)"]
    for i, ex in enumerate(exemplars, 1):
        text = highlighted_text(ex.tokens, ex.activations)
        lines.append(f"{i:<2} | {ex.max_activation:4.1f} | {text}")
    return "\n".join(lines)


def activation_table(result: TokenActivations, top: int = 8) -> str:
    """Max activation, then the most active tokens as token(activation)."""
    ranked = sorted(
        (i for i, a in enumerate(result.activations) if a > 0),
        key=lambda i: -result.activations[i],
    )[:top]
    shown = ", ".join(
        f"{display_token(result.tokens[i]).strip() or repr(result.tokens[i])}({result.activations[i]:.1f})"
        for i in sorted(ranked)
    )
    return f"max {result.max_activation:.2f}; active tokens: {shown or 'none'}"


def hypotheses_table(hypotheses: Sequence[Hypothesis]) -> str:
    return "\n".join(
        f"H{h.id} [{h.verdict}]{' (negative control)' if h.negative_control else ''}: {h.statement}"
        for h in hypotheses
    )


def tests_table(tests: Sequence[TestRecord], reference: float) -> str:
    if not tests:
        return "(no tests yet)"
    lines = []
    for i, t in enumerate(tests, 1):
        outcome = activation_table(t.result) if t.result else f"error: {t.error}"
        lines.append(
            f"T{i} for H{t.hypothesis_id}, expected {t.expected}: {t.text!r} -> {outcome}"
            + (f" -> {t.verdict}" if t.verdict else "")
        )
    lines.append(f"(for scale: the top exemplars peak at {reference:.2f} on average)")
    return "\n".join(lines)
