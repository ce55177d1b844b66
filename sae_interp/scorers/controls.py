"""Controls computed in the same run as every explanation-based score."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def shuffled_explanation_sources(latents: Sequence[int], seed: int) -> dict[int, int]:
    """Give every latent the explanation of a different latent (a seeded derangement: a
    random cycle through all of them). Empty when there are fewer than two latents."""
    if len(latents) < 2:
        return {}
    order = [int(x) for x in np.random.default_rng([seed, 11]).permutation(list(latents))]
    return {order[i]: order[(i + 1) % len(order)] for i in range(len(order))}
