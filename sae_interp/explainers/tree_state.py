"""The auditable state of a tree search over explanations: every node with its text, parent,
scores and the feedback its children were written from."""

from __future__ import annotations

from pydantic import BaseModel, Field

from sae_interp.explainers.cost import ExplanationCost


class TreeFeedback(BaseModel):
    """The train window whose removal would raise the node's train score most."""

    seq: int
    start: int
    tokens: list[str]
    predicted: list[float]
    true: list[float] = Field(description="True activations on the 0-10 scale.")
    score_without: float | None = Field(description="Train score with this window left out.")


class TreeNode(BaseModel):
    id: int
    parent: int | None
    depth: int = Field(description="1 for the one-shot roots.")
    text: str | None = Field(description="None when the reply could not be read.")
    raw: str | None = None
    error: str | None = None
    train_score: float | None = None
    validation_score: float | None = None
    validated: bool = False
    feedback: TreeFeedback | None = None
    cost: ExplanationCost = Field(
        default_factory=ExplanationCost,
        description="This node's LLM answer and its train and validation simulations.",
    )


class TreeProgress(BaseModel):
    """A latent's tree so far (the checkpoint a killed run resumes from)."""

    latent: int
    nodes: list[TreeNode]
    finished: bool = False
