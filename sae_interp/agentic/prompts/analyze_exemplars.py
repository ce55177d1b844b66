"""ANALYZE_EXEMPLARS: at least three hypotheses, one of them a negative control."""

from __future__ import annotations

from typing import Any

from sae_interp.agentic.parsing import ReplyError, extract_json, require_str
from sae_interp.agentic.prompts.common import evidence
from sae_interp.agentic.schema import AgentTranscript

MIN_HYPOTHESES = 3

INSTRUCTIONS = (
    "Study the top activating texts. Propose at least three different hypotheses about "
    "what makes the latent fire, each specific enough to test with one short text. Mark "
    "exactly one of them as a negative control: something the latent should NOT respond to "
    "if your main idea is right. Reply as\n"
    '{"hypotheses": [{"statement": "...", "negative_control": false}, ...]}'
)


def user_message(t: AgentTranscript) -> str:
    return f"{evidence(t)}\n\n{INSTRUCTIONS}"


def parse(text: str) -> dict[str, Any]:
    data = extract_json(text)
    items = data.get("hypotheses")
    if not isinstance(items, list):
        raise ReplyError("'hypotheses' must be a list")
    hypotheses = []
    for item in items:
        if isinstance(item, str):
            item = {"statement": item}
        if not isinstance(item, dict):
            raise ReplyError("each hypothesis must be an object with a 'statement'")
        hypotheses.append(
            {
                "statement": require_str(item, "statement"),
                "negative_control": bool(item.get("negative_control", False)),
            }
        )
    if len(hypotheses) < MIN_HYPOTHESES:
        raise ReplyError(f"give at least {MIN_HYPOTHESES} hypotheses (got {len(hypotheses)})")
    if not any(h["negative_control"] for h in hypotheses):
        raise ReplyError("mark one hypothesis as the negative control (negative_control: true)")
    return {"hypotheses": hypotheses}
