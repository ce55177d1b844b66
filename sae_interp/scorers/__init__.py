"""Scorers and the pure metric functions they report."""
