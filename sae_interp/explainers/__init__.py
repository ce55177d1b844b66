"""Explainers turn a latent's train windows into a natural-language explanation."""
