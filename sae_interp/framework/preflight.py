"""Checks that need no model, run before it is loaded: a bad SAE, hook, width, context
length, latent id or corpus is reported in one sentence within a second, not after a model
load of tens of seconds (or an activation collection of minutes)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sae_interp.base.errors import CompatibilityError
from sae_interp.data.text_sources import open_corpus
from sae_interp.framework.config import BaseEvalConfig
from sae_interp.models.facts import check_hook_fits
from sae_interp.models.loading import model_facts
from sae_interp.saes.loading import sae_shape


def check_latent_ids(latents: Sequence[int] | None, d_sae: int | None, sae_spec: str) -> None:
    """Every id of ``--latents`` is a latent of the SAE (0 to d_sae - 1)."""
    for latent in latents or ():
        if latent < 0:
            raise CompatibilityError(
                f"--latents {latent}: latent ids are not negative (0 to d_sae - 1)"
            )
        if d_sae is not None and latent >= d_sae:
            raise CompatibilityError(
                f"--latents {latent}: SAE {sae_spec} has {d_sae} latents (ids 0 to {d_sae - 1})"
            )


def preflight(
    config: BaseEvalConfig, given: Collection[str] = (), model_given: bool = False
) -> None:
    """Check ``config`` against the files of its model (unless the model is passed as an
    object), SAEs (except the ``given`` ones) and corpus, loading none of them."""
    facts = None if model_given else model_facts(config.model)
    if facts is not None and facts.n_ctx is not None and config.ctx_len > facts.n_ctx:
        raise CompatibilityError(
            f"--ctx-len {config.ctx_len} exceeds the context of {config.model!r} "
            f"(n_ctx={facts.n_ctx})"
        )
    latents = getattr(config, "latents", None)
    for spec in config.saes:
        if spec in given:
            continue
        shape = sae_shape(spec)
        d_sae = None
        if shape is not None:
            d_in, d_sae, hook = shape
            if facts is not None and hook is not None:
                check_hook_fits(facts, hook, d_in, config.ctx_len)
        check_latent_ids(latents, d_sae, spec)
    open_corpus(config.corpus)
