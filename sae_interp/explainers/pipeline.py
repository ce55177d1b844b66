"""Explanations for a set of latents: reuse stored ones, produce and store the rest.

The store is keyed by everything that shapes an explanation (model, SAE, sampling, explainer
settings, LLM), under ``<output_dir>/explanations/``, so every eval on the same latents
shares it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sae_interp.activations.records import LatentRecord
from sae_interp.activations.sampling import SamplingConfig
from sae_interp.base.paths import slugify, stable_hash
from sae_interp.explainers.explanations import Explanation, ExplanationStore
from sae_interp.explainers.one_shot import OneShotSettings, explain
from sae_interp.llm.service import LLMService

logger = logging.getLogger(__name__)

EXPLAINER_SOURCE = "explainer"


def explanation_store_path(
    output_dir: Path,
    model: str,
    sae_spec: str,
    sae_fingerprint: str,
    sampling: SamplingConfig,
    settings: OneShotSettings,
    llm_identity: str,
    seed: int,
) -> Path:
    key = stable_hash(
        [
            sae_fingerprint,
            sampling.model_dump(),
            settings.model_dump(),
            llm_identity,
            seed,
            "one_shot",
        ]
    )[:16]
    return (
        Path(output_dir)
        / "explanations"
        / f"{slugify(model)}__{slugify(sae_spec)}"
        / f"one_shot_{key}.jsonl"
    )


def explanations_for(
    records: Sequence[LatentRecord],
    tokenizer: Any,
    service: LLMService | None,
    settings: OneShotSettings,
    store: ExplanationStore,
    given: Mapping[int, Explanation] | None = None,
) -> dict[int, Explanation]:
    """The explanation of every record: ``given`` ones as they are (they never enter the
    store), stored ones reused, the rest asked of the explainer. Only successes are stored;
    a failure is returned with its kind (the caller counts it) and asked again next run."""
    given = given or {}
    missing = [r for r in records if r.latent not in given and r.latent not in store]
    if missing:
        if service is None:
            raise ValueError(f"{len(missing)} latents have no stored explanation and no LLM")
        logger.info("explaining %d latents (%d reused)", len(missing), len(records) - len(missing))
        for item in explain(missing, tokenizer, service, settings):
            store.put(item)
    out: dict[int, Explanation] = {}
    for r in records:
        if r.latent in given:
            out[r.latent] = given[r.latent]
            continue
        found = store.get(r.latent) or store.failure(r.latent)
        assert found is not None
        out[r.latent] = found.model_copy(update={"source": EXPLAINER_SOURCE})
    return out
