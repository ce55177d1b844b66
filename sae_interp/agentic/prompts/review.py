"""REVIEW: after a round of tests, conclude or keep testing."""

from __future__ import annotations

from typing import Any

from sae_interp.agentic.parsing import ReplyError, extract_json
from sae_interp.agentic.prompts.common import evidence
from sae_interp.agentic.schema import AgentTranscript


def user_message(t: AgentTranscript) -> str:
    return (
        f"{evidence(t)}\n\nReview the evidence. Is it enough to describe the latent "
        "confidently? If not, name the hypothesis to test next (its number), propose a new "
        "one, or ask to see more top activating texts. Reply as\n"
        '{"conclude": false, "next_hypothesis": 1, "new_hypothesis": null, "more_exemplars": false}'
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
    more = data.get("more_exemplars", False)
    if not isinstance(more, bool):
        raise ReplyError("'more_exemplars' must be true or false")
    return {
        "conclude": data["conclude"],
        "next_hypothesis": nxt,
        "new_hypothesis": new,
        "more_exemplars": more,
    }
