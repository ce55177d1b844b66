"""DESIGN_TEST: one test text for one hypothesis, with the expected activation."""

from __future__ import annotations

from typing import Any

from sae_interp.agentic.parsing import ReplyError, extract_json, require_choice, require_str
from sae_interp.agentic.prompts.common import evidence
from sae_interp.agentic.schema import AgentTranscript, Hypothesis

MAX_TEST_CHARS = 400


def user_message(t: AgentTranscript, hypothesis: Hypothesis) -> str:
    kind = " (the negative control)" if hypothesis.negative_control else ""
    return (
        f"{evidence(t)}\n\nDesign one new test of H{hypothesis.id}{kind}: "
        f"{hypothesis.statement}\nWrite a short text (one or two sentences) that should make "
        "the latent fire strongly if the hypothesis is right (expected high), or a text that "
        "should leave it silent (expected low). Do not repeat earlier tests. Reply as\n"
        '{"text": "...", "expected": "high"}'
    )


def parse(text: str) -> dict[str, Any]:
    data = extract_json(text)
    test = require_str(data, "text")
    if len(test) > MAX_TEST_CHARS:
        raise ReplyError(f"the test text must be at most {MAX_TEST_CHARS} characters")
    return {"text": test, "expected": require_choice(data, "expected", ("high", "low"))}
