"""What every explainer produces, and where explanations are kept for reuse."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from sae_interp.explainers.cost import ExplanationCost
from sae_interp.explainers.tree_state import TreeNode
from sae_interp.framework.latent_store import LatentStore
from sae_interp.text.rules import Rule


class Explanation(BaseModel):
    """An explainer's answer for one latent. A failure keeps the raw text, the reason and its
    kind and has ``text=None``: it is never scored as if it were an explanation, and never
    stored (a later run asks again)."""

    latent: int
    text: str | None
    raw: str | None = None
    error: str | None = None
    error_kind: str | None = Field(
        default=None,
        description="Why there is no explanation: the LLM failure's kind, 'unparseable_answer' "
        "or 'no_train_windows'.",
    )
    rules: list[Rule] | None = Field(
        default=None, description="Structured explanations: the rules (text renders them)."
    )
    tree: list[TreeNode] | None = Field(
        default=None, description="Tree explanations: every node of the search."
    )
    source: str | None = Field(
        default=None,
        description="Where the text came from: 'explainer', or FORMAT:FILE:LINE when given.",
    )
    cost: ExplanationCost | None = Field(
        default=None, description="What making it took (None for given explanations)."
    )

    @property
    def ok(self) -> bool:
        return self.text is not None

    @model_validator(mode="after")
    def _failure_has_a_kind(self) -> Explanation:
        # failures are counted by kind (failures_by_kind); one without a kind would count
        # as "unknown", whichever explainer made it
        if self.text is None and self.error_kind is None:
            raise ValueError(f"latent {self.latent}: a failed explanation needs its error_kind")
        return self


class ExplanationStore(LatentStore[Explanation]):
    """Explanations, one JSONL line per latent, appended as each one is produced.

    One file per (model, SAE, sampling, explainer settings, LLM) key, so a later eval on the
    same latents with the same settings reuses the explanations instead of paying again.

    Only successful explanations are written: a failure put here is kept in memory for this
    run (:meth:`failure`, so the eval can report it) and is asked again by the next run. A
    failure line written by an older version is treated as missing.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path, Explanation)
        self._failures: dict[int, Explanation] = {}

    def put(self, item: Explanation) -> None:
        if not item.ok:
            self._failures[item.latent] = item
            return
        self._failures.pop(item.latent, None)
        super().put(item)

    def get(self, latent: int) -> Explanation | None:
        item = super().get(latent)
        return item if item is not None and item.ok else None

    def failure(self, latent: int) -> Explanation | None:
        """This run's failed attempt at ``latent`` (None if it did not fail)."""
        return self._failures.get(latent)

    def __contains__(self, latent: object) -> bool:
        return isinstance(latent, int) and self.get(latent) is not None

    def done(self) -> set[int]:
        return {latent for latent in super().done() if latent in self}

    def items(self) -> list[Explanation]:
        return [item for item in super().items() if item.ok]

    def __len__(self) -> int:
        return len(self.done())
