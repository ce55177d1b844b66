"""What every explainer produces, and where explanations are kept for reuse."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from sae_interp.explainers.tree_state import TreeNode
from sae_interp.framework.latent_store import LatentStore
from sae_interp.text.rules import Rule


class Explanation(BaseModel):
    """An explainer's answer for one latent. A failure keeps the raw text and the reason and
    has ``text=None``: it is never scored as if it were an explanation."""

    latent: int
    text: str | None
    raw: str | None = None
    error: str | None = None
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

    @property
    def ok(self) -> bool:
        return self.text is not None


class ExplanationStore(LatentStore[Explanation]):
    """Explanations, one JSONL line per latent, appended as each one is produced.

    One file per (model, SAE, sampling, explainer settings, LLM) key, so a later eval on the
    same latents with the same settings reuses the explanations instead of paying again.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path, Explanation)
