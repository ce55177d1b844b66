"""Accept sae-lens SAE objects wherever a :class:`BaseSAE` is expected."""

from __future__ import annotations

from typing import Any

import torch

from sae_interp.saes.base import BaseSAE, SAEConfig


def _is_saelens_sae(obj: object) -> bool:
    try:
        from sae_lens import SAE
    except ImportError:  # pragma: no cover - sae-lens is a dependency
        return False
    return isinstance(obj, SAE)


class SaeLensAdapter(BaseSAE):
    """Wraps a sae-lens SAE; its own encode/decode (normalisation included) are used."""

    architecture = "saelens"

    def __init__(self, inner: Any) -> None:
        meta = inner.cfg.metadata
        cfg = SAEConfig(
            architecture=f"saelens:{inner.cfg.architecture()}",
            d_in=inner.cfg.d_in,
            d_sae=inner.cfg.d_sae,
            hook_name=meta.hook_name,
            model_name=getattr(meta, "model_name", None) or "",
            dtype=str(inner.cfg.dtype).removeprefix("torch."),
            k=getattr(inner.cfg, "k", None),
            extra={"sae_lens_cfg": _jsonable(inner.cfg.to_dict())},
        )
        super().__init__(cfg)
        self.inner = inner

    @property
    def W_enc(self) -> torch.Tensor:  # type: ignore[override]
        return self.inner.W_enc

    @property
    def W_dec(self) -> torch.Tensor:  # type: ignore[override]
        return self.inner.W_dec

    @property
    def b_dec(self) -> torch.Tensor:  # type: ignore[override]
        return self.inner.b_dec

    @property
    def b_enc(self) -> torch.Tensor:  # type: ignore[override]
        bias = getattr(self.inner, "b_enc", None)
        if bias is None:
            bias = getattr(self.inner, "b_gate", None)
        return bias if bias is not None else torch.zeros_like(self.inner.W_enc[0])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner.encode(x)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        return self.inner.decode(latents)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out[key] = _jsonable(value)
        elif isinstance(value, (str, int, float, bool)) or value is None:
            out[key] = value
        else:
            out[key] = str(value)
    return out


def as_sae(obj: object) -> BaseSAE:
    """Return ``obj`` as a BaseSAE (sae-lens SAEs are wrapped)."""
    if isinstance(obj, BaseSAE):
        return obj
    if _is_saelens_sae(obj):
        return SaeLensAdapter(obj)
    raise TypeError(f"expected a sae_interp BaseSAE or a sae-lens SAE, got {type(obj).__name__}")
