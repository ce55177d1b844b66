"""Controls computed in the same run as every explanation-based score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def shuffled_explanation_sources(
    latents: Sequence[int], seed: int, texts: Mapping[int, str] | None = None
) -> dict[int, int]:
    """Give every latent the explanation of a different latent whose text differs from its
    own (a seeded derangement: a random cycle through all of them, then swaps where two
    latents share a text). A latent for which no other latent has a different text gets no
    control (it is absent from the result, and the caller records why). Empty when there are
    fewer than two latents."""
    if len(latents) < 2:
        return {}
    order = [int(x) for x in np.random.default_rng([seed, 11]).permutation(list(latents))]
    sources = {order[i]: order[(i + 1) % len(order)] for i in range(len(order))}
    if texts is None:
        return sources

    def valid(latent: int, source: int) -> bool:
        return latent != source and not _same_text(texts[latent], texts[source])

    for latent in order:
        if valid(latent, sources[latent]):
            continue
        # swap with another latent so that both end up with a different text
        for other in order:
            if other in sources and valid(latent, sources[other]) and valid(other, sources[latent]):
                sources[latent], sources[other] = sources[other], sources[latent]
                break
        else:
            # reuse any explanation with a different text, or give up on this latent
            fallback = next((s for s in order if valid(latent, s)), None)
            if fallback is None:
                del sources[latent]
            else:
                sources[latent] = fallback
    return sources
