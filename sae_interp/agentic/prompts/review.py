"""REVIEW: after a round of tests, conclude or keep testing."""

from __future__ import annotations

from typing import Any

from sae_interp.agentic.parsing import ReplyError, extract_json
from sae_interp.agentic.prompts.common import evidence
from sae_interp.agentic.schema import AgentTranscript


def user_message(t: AgentTranscript) -> str:
    return (
        f"{evidence(t)}\n\nReview the evidence. Is it enough to describe the latent "
        "confidently? If not, name the hypothesis to test next (its number), or propose a new "
        "one. Reply as\n"
        '{"conclude": false, "next_hypothesis": 1, "new_hypothesis": null}'
    )


def parse(text: str) -> dict[str, Any]:
    data = extract_json(text)
    if not isinstance(data.get("conclude"), bool):
        raise ReplyError("'conclude' must be true or false")
    nxt = data.get("next_hypothesis")
    new = data.get("new_hypothesis")
    if nxt is not None and not isinstance(nxt, int):
        raise ReplyError("'next_hypothesis' must be a hypothesis number or null")
    if new is not None and (not isinstance(new, str) or not new.strip()):
        raise ReplyError("'new_hypothesis' must be a statement or null")
    return {"conclude": data["conclude"], "next_hypothesis": nxt, "new_hypothesis": new}
