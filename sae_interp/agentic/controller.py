"""The agent's state machine. Code decides the flow; the LLM only fills each state's reply.

GET_EXEMPLARS (tools, no LLM) -> ANALYZE_EXEMPLARS (>= 3 hypotheses, one a negative control)
-> per hypothesis: DESIGN_TEST -> RUN_TEST (tools) -> ANALYZE_RESULT -> ... after each pass
over the live hypotheses: REVIEW -> ... -> FINAL_CONCLUSION. Each LLM state's reply is
validated; an invalid reply gets one corrective retry. Budgets: ``max_rounds`` test cycles,
``min_tests`` before the agent may conclude, and a forced conclusion after ``max_failures``
failed steps (unreadable replies, LLM errors, tool errors) without a complete cycle between them. Every step is logged
in the transcript. The LLM is any callable from messages to text (or an ``LLMError``), so the
controller is tested with scripted replies."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pydantic import Field

from sae_interp.agentic.formatting import activation_table, exemplar_table
from sae_interp.agentic.parsing import ReplyError
from sae_interp.agentic.prompts import (
    analyze_exemplars,
    analyze_result,
    common,
    design_test,
    final_conclusion,
    review,
)
from sae_interp.agentic.schema import (
    AgentStep,
    AgentTranscript,
    Conclusion,
    Hypothesis,
    State,
    TestRecord,
)
from sae_interp.agentic.tools import AgentTools, ToolError
from sae_interp.base import FrozenModel
from sae_interp.llm.errors import LLMError
from sae_interp.llm.types import ChatMessage

logger = logging.getLogger(__name__)

AgentLLM = Callable[[list[ChatMessage]], "str | LLMError"]

CORRECTION = "Your reply could not be used: {error}. Reply again with only the JSON object."


class AgentSettings(FrozenModel):
    top_k: int = Field(default=10, gt=0, description="Exemplars shown at the start.")
    max_rounds: int = Field(default=14, gt=0, description="Test cycles at most.")
    min_tests: int = Field(default=3, ge=1, description="Tests before the agent may conclude.")
    max_failures: int = Field(
        default=3,
        gt=0,
        description="Failed steps (with no complete cycle between) that force a conclusion.",
    )
    max_tokens: int = Field(default=400, gt=0, description="Answer length limit per step.")
    temperature: float = Field(default=0.0, ge=0)


class AgentController:
    def __init__(
        self, llm: AgentLLM, tools: AgentTools, settings: AgentSettings, latent: int
    ) -> None:
        self.llm, self.tools, self.settings = llm, tools, settings
        self.t = AgentTranscript(latent=latent, exemplars=[], exemplar_mean_max=0.0)
        self.failures = 0
        self.rounds = 0

    # --- plumbing -------------------------------------------------------------------
    def _ask(
        self, state: State, user: str, parse: Callable[[str], dict[str, Any]]
    ) -> dict[str, Any] | None:
        """One LLM state with one corrective retry; None (and a failure) if still unusable."""
        messages = [
            ChatMessage(role="system", content=common.SYSTEM),
            ChatMessage(role="user", content=user),
        ]
        step = AgentStep(state=state, prompt=user)
        self.t.steps.append(step)
        for attempt in range(2):
            answer = self.llm(messages)
            if isinstance(answer, LLMError):
                step.error, step.error_kind = f"LLM error: {answer}", answer.kind.value
                break
            step.raw.append(answer)
            try:
                step.parsed = parse(answer)
            except ReplyError as err:
                step.error = str(err)
                if attempt == 0:
                    messages += [
                        ChatMessage(role="assistant", content=answer),
                        ChatMessage(role="user", content=CORRECTION.format(error=err)),
                    ]
                continue
            step.error = None
            return step.parsed
        self.failures += 1
        logger.info("latent %d: %s failed (%s)", self.t.latent, state.value, step.error)
        return None

    def _failed_out(self) -> bool:
        return self.failures >= self.settings.max_failures

    # --- states ---------------------------------------------------------------------
    def _get_exemplars(self) -> None:
        exemplars = self.tools.exemplars(0, self.settings.top_k)
        self.t.exemplars = exemplars
        peaks = [e.max_activation for e in exemplars]
        self.t.exemplar_mean_max = sum(peaks) / len(peaks) if peaks else 0.0
        self.t.steps.append(
            AgentStep(state=State.GET_EXEMPLARS, tool_result=exemplar_table(exemplars))
        )

    def _analyze_exemplars(self) -> bool:
        while not self._failed_out():
            parsed = self._ask(
                State.ANALYZE_EXEMPLARS,
                analyze_exemplars.user_message(self.t),
                analyze_exemplars.parse,
            )
            if parsed is not None:
                self.t.hypotheses = [
                    Hypothesis(id=i, **h) for i, h in enumerate(parsed["hypotheses"], 1)
                ]
                self.failures = 0
                return True
        return False

    def _test(self, hypothesis: Hypothesis) -> None:
        """DESIGN_TEST -> RUN_TEST -> ANALYZE_RESULT for one hypothesis (one round)."""
        self.rounds += 1
        design = self._ask(
            State.DESIGN_TEST, design_test.user_message(self.t, hypothesis), design_test.parse
        )
        if design is None:
            return
        test = TestRecord(
            hypothesis_id=hypothesis.id, text=design["text"], expected=design["expected"]
        )
        self.t.tests.append(test)
        step = AgentStep(state=State.RUN_TEST, parsed={"text": test.text})
        self.t.steps.append(step)
        try:
            test.result = self.tools.run_text(test.text)
        except ToolError as err:
            test.error = step.error = str(err)
            self.failures += 1
            return
        step.tool_result = activation_table(test.result)
        verdict = self._ask(
            State.ANALYZE_RESULT,
            analyze_result.user_message(self.t, hypothesis, test),
            analyze_result.parse,
        )
        if verdict is None:
            return
        test.verdict, test.reason = verdict["verdict"], verdict["reason"]
        hypothesis.verdict = verdict["verdict"]
        if verdict["refined_statement"]:
            hypothesis.history.append(hypothesis.statement)
            hypothesis.statement = verdict["refined_statement"]
        self.failures = 0  # a complete test cycle

    def _review(self) -> tuple[bool, int | None]:
        parsed = self._ask(State.REVIEW, review.user_message(self.t), review.parse)
        if parsed is None:
            return False, None
        self.failures = 0
        if parsed["more_exemplars"]:
            more = self.tools.exemplars(len(self.t.exemplars), self.settings.top_k)
            self.t.exemplars += more
            self.t.steps.append(
                AgentStep(
                    state=State.GET_EXEMPLARS,
                    tool_result=exemplar_table(more) if more else "(no more)",
                )
            )
        if parsed["new_hypothesis"]:
            new = Hypothesis(id=len(self.t.hypotheses) + 1, statement=parsed["new_hypothesis"])
            self.t.hypotheses.append(new)
            return False, new.id
        return parsed["conclude"], parsed["next_hypothesis"]

    def _live(self, first: int | None) -> list[Hypothesis]:
        """This pass's hypotheses: not refuted (all of them if every one was), ``first`` first."""
        live = [h for h in self.t.hypotheses if h.verdict != "REFUTED"] or list(self.t.hypotheses)
        live.sort(key=lambda h: (h.id != first, h.id))
        return live

    def _conclude(self, reason: str) -> None:
        """FINAL_CONCLUSION (forced unless the agent chose to conclude); if even that reply
        is unusable, the best hypothesis stands in, marked forced."""
        self.t.stop_reason = reason
        parsed = self._ask(
            State.FINAL_CONCLUSION, final_conclusion.user_message(self.t), final_conclusion.parse
        )
        if parsed is not None:
            self.t.conclusion = Conclusion(**parsed, forced=reason != "concluded")
        else:
            self.t.conclusion = self._fallback()

    def _fallback(self) -> Conclusion | None:
        """The best hypothesis when the agent could not write its conclusion."""
        rank = {"CONFIRMED": 0, "REFINED": 1, "UNTESTED": 2, "REFUTED": 3}
        candidates = sorted(
            (h for h in self.t.hypotheses if not h.negative_control),
            key=lambda h: (rank[h.verdict], h.id),
        )
        if not candidates:
            return None
        best = candidates[0]
        return Conclusion(
            description=best.statement, evidence=[f"H{best.id} {best.verdict}"], forced=True
        )

    # --- the machine ----------------------------------------------------------------
    def run(self) -> AgentTranscript:
        self._get_exemplars()
        if not self._analyze_exemplars():
            self._conclude("failures")
            return self.t
        first: int | None = None
        while True:
            for hypothesis in self._live(first):
                if self.rounds >= self.settings.max_rounds:
                    self._conclude("max_rounds")
                    return self.t
                self._test(hypothesis)
                if self._failed_out():
                    self._conclude("failures")
                    return self.t
            conclude, first = self._review()
            if self._failed_out():
                self._conclude("failures")
                return self.t
            analysed = sum(t.verdict is not None for t in self.t.tests)
            if conclude and analysed >= self.settings.min_tests:
                self._conclude("concluded")
                return self.t
