"""What the agent works with and leaves behind: exemplars, hypotheses, tests, every step."""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, Field


class State(str, Enum):
    GET_EXEMPLARS = "GET_EXEMPLARS"
    ANALYZE_EXEMPLARS = "ANALYZE_EXEMPLARS"
    DESIGN_TEST = "DESIGN_TEST"
    RUN_TEST = "RUN_TEST"
    ANALYZE_RESULT = "ANALYZE_RESULT"
    REVIEW = "REVIEW"
    FINAL_CONCLUSION = "FINAL_CONCLUSION"
    DONE = "DONE"


Verdict = Literal["CONFIRMED", "REFUTED", "REFINED", "UNTESTED"]


class TokenActivations(BaseModel):
    """A text as the model tokenised it, with the latent's activation at every token."""

    text: str
    tokens: list[str]
    activations: list[float]

    @property
    def max_activation(self) -> float:
        return max(self.activations, default=0.0)


class Hypothesis(BaseModel):
    id: int
    statement: str
    negative_control: bool = False
    verdict: Verdict = "UNTESTED"
    history: list[str] = Field(default_factory=list, description="Earlier statements.")


class TestRecord(BaseModel):
    hypothesis_id: int
    text: str
    expected: Literal["high", "low"]
    result: TokenActivations | None = None
    error: str | None = None
    verdict: Verdict | None = None
    reason: str | None = None


class Conclusion(BaseModel):
    description: str
    evidence: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    forced: bool = Field(default=False, description="Concluded by a budget, not by the agent.")


class AgentStep(BaseModel):
    """One step of the state machine, as logged."""

    state: State
    prompt: str | None = None
    raw: list[str] = Field(default_factory=list, description="LLM answers (retry included).")
    parsed: dict[str, Any] | None = None
    tool_result: str | None = None
    error: str | None = None
    error_kind: str | None = Field(
        default=None, description="The LLM failure's kind when the step's call failed."
    )


class AgentTranscript(BaseModel):
    latent: int
    exemplars: list[TokenActivations]
    exemplar_mean_max: float
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    tests: list[TestRecord] = Field(default_factory=list)
    steps: list[AgentStep] = Field(default_factory=list)
    conclusion: Conclusion | None = None
    stop_reason: str = ""
