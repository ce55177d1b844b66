"""Explainers: what turns a latent's record into an explanation.

:mod:`~sae_interp.explainers.registry` holds the explainers (one_shot, structured, tree) and
the one call the evals make (:func:`~sae_interp.explainers.registry.explanations`: stored
explanations reused, missing ones made and stored); the output-side explainer of the
intervention eval and the explanation store live beside it. Each explainer's prompts live in
their own ``*_prompts`` module. Import what you use from its module: importing this package
loads no explainer."""

from sae_interp.explainers.explanations import Explanation, ExplanationStore

__all__ = ["Explanation", "ExplanationStore"]
