"""Every failed explanation carries its kind, whichever explainer made it: the output-side
explainer's failures are counted by kind in intervention's ``failures_by_kind``, not as
"unknown"."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sae_interp.evals.intervention.eval_output import LatentInterventionResult
from sae_interp.evals.intervention.summary import failures_by_kind
from sae_interp.explainers.explanations import Explanation
from sae_interp.explainers.output_explainer import explanations_from_answers
from sae_interp.llm.errors import FailureKind, LLMError
from sae_interp.llm.types import LLMResponse


def test_output_explainer_failures_have_their_kind() -> None:
    answers = [
        LLMError("gave up after 6 attempts: no answer within 5 s", FailureKind.timeout),
        LLMResponse(text="I cannot help with that."),
        LLMResponse(text="Thinking.\n[EXPLANATION]: the token 'cat'"),
    ]
    timeout, refusal, ok = explanations_from_answers(7, answers)
    assert (timeout.text, timeout.error_kind) == (None, "timeout")
    assert (refusal.text, refusal.error_kind) == (None, "unparseable_answer")
    assert ok.text == "the token 'cat'" and ok.error_kind is None


def test_failures_by_kind_names_the_kind() -> None:
    failed = [
        LatentInterventionResult(latent=latent, status="explanation_failed", explanations=found)
        for latent, found in (
            (1, explanations_from_answers(1, [LLMError("429", FailureKind.rate_limited)])),
            (2, explanations_from_answers(2, [LLMResponse(text="no line here")])),
            (3, explanations_from_answers(3, [LLMError("429", FailureKind.rate_limited)])),
        )
    ]
    assert failures_by_kind(failed) == {"rate_limited": 2, "unparseable_answer": 1}


def test_a_failure_without_a_kind_is_refused() -> None:
    with pytest.raises(ValidationError, match="needs its error_kind"):
        Explanation(latent=1, text=None, error="something went wrong")
