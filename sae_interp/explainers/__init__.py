"""Explainers: what turns a latent's record into an explanation.

One registry (:data:`EXPLAINERS`: one_shot, structured, tree) behind one call
(:func:`explain_records`: stored explanations reused, missing ones made and stored), the
output-side explainer of the intervention eval, and the explanation store. Each explainer's
prompts live in their own ``*_prompts`` module (import those as submodules)."""

from sae_interp.explainers.explanations import Explanation, ExplanationStore
from sae_interp.explainers.kinds import (
    EXPLAINERS,
    ExplainerEnv,
    ExplainerKind,
    explain_records,
    planned_explain_requests,
    store_path_for,
)
from sae_interp.explainers.one_shot import OneShotSettings
from sae_interp.explainers.output_explainer import OutputExplainerSettings
from sae_interp.explainers.pipeline import explanation_store_path, explanations_for
from sae_interp.explainers.structured import StructuredSettings
from sae_interp.explainers.tree import TreeExplainer, TreeSettings

__all__ = [
    "EXPLAINERS",
    "ExplainerEnv",
    "ExplainerKind",
    "Explanation",
    "ExplanationStore",
    "OneShotSettings",
    "OutputExplainerSettings",
    "StructuredSettings",
    "TreeExplainer",
    "TreeSettings",
    "explain_records",
    "explanation_store_path",
    "explanations_for",
    "planned_explain_requests",
    "store_path_for",
]
