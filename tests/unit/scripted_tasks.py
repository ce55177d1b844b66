"""What a scripted LLM in the unit tests was asked, read from the text of the request (the
task a prompt states, or a marker of its user message), never by comparing the request with
the prompt module under test: a scripted judge then notices when a prompt stops saying what
the task is."""

from __future__ import annotations

from sae_interp.llm.types import LLMRequest


def task_of(request: LLMRequest) -> str:
    """explain_outputs | explain | saebench | fuzzing | detection | generation | prediction |
    other (e.g. the agent's own steps)."""
    system, last = request.messages[0].content, request.messages[-1].content
    lines = last.splitlines()
    if any(line.startswith("Rose most:") for line in lines):
        return "explain_outputs"
    if any(line.startswith("Example 1:") for line in lines):
        return "explain"
    if "List the numbers of the excerpts" in system:
        return "saebench"
    if "Reply with a list of" in last:
        return "fuzzing" if "marked like <<this>>" in system else "detection"
    if "should activate it strongly" in last:
        return "generation"
    if "Reply with a JSON list of" in last:
        return "prediction"
    return "other"
