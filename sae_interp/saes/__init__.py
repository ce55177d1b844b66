"""SAE classes, the architecture registry and ``load_sae``."""

from sae_interp.saes import architectures, planted  # noqa: F401
from sae_interp.saes.architectures import (
    PCASAE,
    BatchTopKSAE,
    GatedSAE,
    IdentitySAE,
    JumpReLUSAE,
    ReLUSAE,
    TopKSAE,
)
from sae_interp.saes.base import (
    SAE_CLASSES,
    BaseSAE,
    LinearSAE,
    SAEConfig,
    build_sae,
    register_sae_class,
)
from sae_interp.saes.loading import SaeResolver, check_sae_fits, load_sae, register_sae_resolver
from sae_interp.saes.planted import PlantedSAE, build_planted_sae
from sae_interp.saes.random_sae import random_like
from sae_interp.saes.saelens_adapter import SaeLensAdapter, as_sae

__all__ = [
    "PCASAE",
    "SAE_CLASSES",
    "BaseSAE",
    "BatchTopKSAE",
    "GatedSAE",
    "IdentitySAE",
    "JumpReLUSAE",
    "LinearSAE",
    "PlantedSAE",
    "ReLUSAE",
    "SAEConfig",
    "SaeLensAdapter",
    "SaeResolver",
    "TopKSAE",
    "as_sae",
    "build_planted_sae",
    "build_sae",
    "check_sae_fits",
    "load_sae",
    "random_like",
    "register_sae_class",
    "register_sae_resolver",
]
