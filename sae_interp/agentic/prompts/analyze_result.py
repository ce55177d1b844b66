"""ANALYZE_RESULT: the verdict on a hypothesis after one test."""

from __future__ import annotations

from typing import Any

from sae_interp.agentic.formatting import activation_table
from sae_interp.agentic.parsing import ReplyError, extract_json, require_choice
from sae_interp.agentic.prompts.common import evidence
from sae_interp.agentic.schema import AgentTranscript, Hypothesis, TestRecord

VERDICTS = ("CONFIRMED", "REFUTED", "REFINED")


def user_message(t: AgentTranscript, hypothesis: Hypothesis, test: TestRecord) -> str:
    assert test.result is not None
    return (
        f"{evidence(t)}\n\nThe latest test of H{hypothesis.id} ({hypothesis.statement}) used "
        f"{test.text!r}, expected {test.expected}. Result: {activation_table(test.result)}.\n"
        "Judge the hypothesis: CONFIRMED (the result supports it), REFUTED (it contradicts "
        "it) or REFINED (partly right: give a better statement). Reply as\n"
        '{"verdict": "CONFIRMED", "reason": "...", "refined_statement": null}'
    )


def parse(text: str) -> dict[str, Any]:
    data = extract_json(text)
    verdict = require_choice(data, "verdict", VERDICTS)
    refined = data.get("refined_statement")
    if verdict == "REFINED":
        if not isinstance(refined, str) or not refined.strip():
            raise ReplyError("a REFINED verdict needs a non-empty 'refined_statement'")
        refined = refined.strip()
    else:
        refined = None
    reason = data.get("reason") if isinstance(data.get("reason"), str) else ""
    return {"verdict": verdict, "reason": reason, "refined_statement": refined}
