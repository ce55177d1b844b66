"""A digest of an SAE's weights and config: the key of its caches and stores, and what the
stale-result check compares."""

from __future__ import annotations

import hashlib

from sae_interp.saes.base import BaseSAE


def sae_fingerprint(sae: BaseSAE) -> str:
    """Changes whenever the SAE's weights or config change."""
    digest = hashlib.sha256(sae.cfg.model_dump_json().encode())
    for name, tensor in sorted(sae.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()[:24]
