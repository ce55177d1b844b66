"""What making one explanation took, kept with the explanation (and so with every reuse of
it): the explainer's LLM answers and their tokens and, for explainers that simulate their
candidates (the tree), the windows simulated and the simulator's prompt tokens; and its mean
over the explained latents of a run."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel, Field

from sae_interp.llm.types import LLMResponse


class ExplanationCost(BaseModel):
    calls: int = Field(default=0, description="LLM answers the explainer received.")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    simulated_windows: int = Field(default=0, description="Windows the explainer simulated.")
    simulator_prompt_tokens: int = Field(
        default=0, description="Prompt tokens of those simulations (all modes)."
    )

    def __add__(self, other: ExplanationCost) -> ExplanationCost:
        return ExplanationCost(
            **{name: getattr(self, name) + getattr(other, name) for name in type(self).model_fields}
        )

    @classmethod
    def of(cls, answer: LLMResponse) -> ExplanationCost:
        """One LLM answer's cost."""
        return cls(
            calls=1,
            prompt_tokens=answer.usage.prompt_tokens,
            completion_tokens=answer.usage.completion_tokens,
        )

    @classmethod
    def total(cls, costs: Iterable[ExplanationCost | None]) -> ExplanationCost:
        out = cls()
        for cost in costs:
            if cost is not None:
                out = out + cost
        return out

    @classmethod
    def mean(cls, costs: Sequence[ExplanationCost]) -> MeanExplanationCost | None:
        """The mean cost per explained latent (None when no explanation records one)."""
        if not costs:
            return None
        total = cls.total(costs)
        return MeanExplanationCost(
            n_latents=len(costs), **{k: v / len(costs) for k, v in total.model_dump().items()}
        )


class MeanExplanationCost(BaseModel):
    """The explanation cost per explained latent, averaged over the latents whose
    explanation records it (given explanations do not)."""

    n_latents: int
    calls: float
    prompt_tokens: float
    completion_tokens: float
    simulated_windows: float
    simulator_prompt_tokens: float
