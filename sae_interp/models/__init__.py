"""Model loading and hook helpers."""

from sae_interp.models.hooks import activations_at_hook, check_hook, hook_layer, hooks_attached
from sae_interp.models.loading import ModelResolver, load_model, register_model_resolver

__all__ = [
    "ModelResolver",
    "activations_at_hook",
    "check_hook",
    "hook_layer",
    "hooks_attached",
    "load_model",
    "register_model_resolver",
]
