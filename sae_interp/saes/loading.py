"""``load_sae(spec)``: every way of naming an SAE, as registered resolvers.

- ``embedded`` / ``embedded:NAME`` - SAEs shipped in ``sae_interp/assets/saes``;
- ``embedded-random-model[:NAME]`` - the same recipe as ``embedded:NAME`` trained on the
  random-weights model (``random-weights:embedded@0``), shipped in
  ``sae_interp/assets/random_model_saes`` for the random-model control;
- ``saelens:RELEASE/SAE_ID`` - any sae-lens pretrained release (downloads from the hub);
- a local directory: sae_interp format (``cfg.json`` with ``sae_interp_format``) or a
  sae-lens saved SAE;
- ``custom:package.module:ClassName:DIR`` - a user BaseSAE subclass loaded from DIR;
- ``identity:HOOK`` - latents = activations at HOOK (needs the model for the width);
- ``random:SPEC[@SEED]`` - the random-SAE control of SPEC (same class and shape);
- ``planted[:HOOK][@SEED]`` - latents that detect known token sets, plus decoys (needs the
  model; see :mod:`sae_interp.saes.planted`).

:func:`check_sae_fits` checks that a loaded SAE fits the model (hook, width, context) before
any work starts.
"""

from __future__ import annotations

import difflib
import importlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from transformer_lens import HookedTransformer

from sae_interp.base.errors import CompatibilityError, SpecError
from sae_interp.base.registry import Registry
from sae_interp.base.torch_utils import resolve_device, str_to_dtype
from sae_interp.models.hooks import activations_at_hook, check_hook
from sae_interp.saes.architectures import IdentitySAE
from sae_interp.saes.base import (
    FORMAT_KEY,
    WEIGHTS_FILE,
    BaseSAE,
    check_weights_file,
    read_cfg_json,
    shape_of,
)
from sae_interp.saes.planted import load_planted
from sae_interp.saes.random_sae import random_like
from sae_interp.saes.saelens_adapter import SaeLensAdapter

logger = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets" / "saes"
RANDOM_MODEL_ASSETS_DIR = ASSETS_DIR.parent / "random_model_saes"
RANDOM_MODEL_PREFIX = "embedded-random-model"

SaeLoader = Callable[[str, "HookedTransformer | None", torch.device], BaseSAE]


@dataclass(frozen=True)
class SaeResolver:
    prefix: str | None  # spec prefix such as "saelens:"; None = matched by `matches`
    load: SaeLoader
    describe: str
    matches: Callable[[str], bool] | None = None
    # the loader computes with the model (not only its config and tokenizer)
    needs_weights: bool = False


SAE_RESOLVERS: Registry[SaeResolver] = Registry("SAE resolver")


def register_sae_resolver(name: str, resolver: SaeResolver) -> None:
    SAE_RESOLVERS.register(name, resolver, overwrite=True)


def embedded_sae_names(assets_dir: Path = ASSETS_DIR) -> list[str]:
    """The SAEs shipped in ``assets_dir`` (the embedded SAEs by default)."""
    index = assets_dir / "index.json"
    if not index.exists():
        return []
    return list(json.loads(index.read_text())["saes"])


def _embedded_name(spec: str, assets_dir: Path) -> str:
    """The shipped SAE ``spec`` names in ``assets_dir`` (its default when it names none);
    raises for a name that does not ship."""
    names = embedded_sae_names(assets_dir)
    name = spec.partition(":")[2] or json.loads((assets_dir / "index.json").read_text())["default"]
    if name not in names:
        raise SpecError(f"unknown SAE {spec!r}; shipped: {', '.join(names)}")
    return name


def _shipped_directory(spec: str, assets_dir: Path) -> Path | None:
    """The directory of the SAE ``spec`` names in ``assets_dir``; None when no SAE ships
    there (raises for a name that does not ship)."""
    if not embedded_sae_names(assets_dir):
        return None
    return assets_dir / _embedded_name(spec, assets_dir)


def _load_embedded(spec: str, model: HookedTransformer | None, device: torch.device) -> BaseSAE:
    directory = _shipped_directory(spec, ASSETS_DIR)
    if directory is None:
        raise SpecError(
            "no embedded SAE ships with this version of sae_interp. Use "
            "'identity:HOOK', a local SAE directory, or 'saelens:RELEASE/SAE_ID'."
        )
    return BaseSAE.load(directory, device=device)


def _load_random_model_sae(
    spec: str, model: HookedTransformer | None, device: torch.device
) -> BaseSAE:
    directory = _shipped_directory(spec, RANDOM_MODEL_ASSETS_DIR)
    if directory is None:
        raise SpecError("no SAE trained on a random-weights model ships with this version")
    return BaseSAE.load(directory, device=device)


def random_model_counterpart(sae_spec: str) -> str | None:
    """The shipped SAE of ``sae_spec``'s recipe trained on the random-weights model
    (``embedded-random-model:NAME``), for an embedded SAE that has one; else None (also for
    a name that is no spec, such as the key of an SAE object given in code)."""
    try:
        embedded = _resolve(sae_spec) is SAE_RESOLVERS.get("embedded")
    except SpecError:
        return None
    directory = _shipped_directory(sae_spec, ASSETS_DIR) if embedded else None
    if directory is None or directory.name not in embedded_sae_names(RANDOM_MODEL_ASSETS_DIR):
        return None
    return f"{RANDOM_MODEL_PREFIX}:{directory.name}"


def _load_saelens_release(
    spec: str, model: HookedTransformer | None, device: torch.device
) -> BaseSAE:
    from sae_lens import SAE
    from sae_lens.loading.pretrained_saes_directory import get_pretrained_saes_directory

    release, _, sae_id = spec.removeprefix("saelens:").partition("/")
    if not release or not sae_id:
        raise SpecError(f"expected 'saelens:RELEASE/SAE_ID', got {spec!r}")
    directory = get_pretrained_saes_directory()
    if release not in directory:
        close = difflib.get_close_matches(release, list(directory), n=5)
        raise SpecError(f"unknown sae-lens release {release!r}; closest: {close}")
    known_ids = list(directory[release].saes_map)
    if sae_id not in known_ids:
        close = difflib.get_close_matches(sae_id, known_ids, n=5)
        raise SpecError(f"release {release!r} has no SAE {sae_id!r}; closest: {close}")
    return SaeLensAdapter(SAE.from_pretrained(release, sae_id, device=str(device)))


def _is_dir(spec: str) -> bool:
    return Path(spec).expanduser().is_dir()


def _load_dir(spec: str, model: HookedTransformer | None, device: torch.device) -> BaseSAE:
    directory = Path(spec).expanduser()
    if FORMAT_KEY in read_cfg_json(directory):
        return BaseSAE.load(directory, device=device)
    from sae_lens import SAE

    return SaeLensAdapter(SAE.load_from_disk(str(directory), device=str(device)))


def _load_custom(spec: str, model: HookedTransformer | None, device: torch.device) -> BaseSAE:
    parts = spec.removeprefix("custom:").split(":", 2)
    if len(parts) != 3:
        raise SpecError(f"expected 'custom:package.module:ClassName:DIR', got {spec!r}")
    module_name, class_name, directory = parts
    try:
        sae_cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as err:
        raise SpecError(f"cannot import {module_name}:{class_name}: {err}") from None
    if not (isinstance(sae_cls, type) and issubclass(sae_cls, BaseSAE)):
        raise SpecError(f"{module_name}:{class_name} is not a BaseSAE subclass")
    return sae_cls.load(Path(directory).expanduser(), device=device)


def _load_identity(spec: str, model: HookedTransformer | None, device: torch.device) -> BaseSAE:

    hook_name = spec.removeprefix("identity:")
    if model is None:
        raise SpecError("'identity:HOOK' needs the model to know the width at the hook")
    check_hook(model, hook_name)
    probe = torch.zeros(1, 2, dtype=torch.long, device=model.cfg.device)
    d_in = int(activations_at_hook(model, probe, hook_name).shape[-1])
    sae = IdentitySAE.for_hook(d_in, hook_name, model.cfg.model_name)
    return sae.to(device=device, dtype=model.cfg.dtype)


def _split_random(spec: str) -> tuple[str, int]:
    """(inner spec, seed) of ``random:SPEC[@SEED]``."""
    inner, _, seed = spec.removeprefix("random:").rpartition("@")
    if not inner or not seed.isdigit():
        return spec.removeprefix("random:"), 0
    return inner, int(seed)


def _load_random(spec: str, model: HookedTransformer | None, device: torch.device) -> BaseSAE:
    inner, seed = _split_random(spec)
    return random_like(_resolve(inner).load(inner, model, device), seed)


for _name, _resolver in {
    "embedded": SaeResolver(
        None,
        _load_embedded,
        "'embedded[:NAME]'",
        matches=lambda s: s == "embedded" or s.startswith("embedded:"),
    ),
    "embedded_random_model": SaeResolver(
        None,
        _load_random_model_sae,
        f"'{RANDOM_MODEL_PREFIX}[:NAME]'",
        matches=lambda s: s == RANDOM_MODEL_PREFIX or s.startswith(f"{RANDOM_MODEL_PREFIX}:"),
    ),
    "saelens": SaeResolver("saelens:", _load_saelens_release, "'saelens:RELEASE/SAE_ID'"),
    "custom": SaeResolver("custom:", _load_custom, "'custom:pkg.module:Class:DIR'"),
    "identity": SaeResolver("identity:", _load_identity, "'identity:HOOK'"),
    "random": SaeResolver("random:", _load_random, "'random:SPEC[@SEED]'"),
    "planted": SaeResolver(
        None,
        load_planted,
        "'planted[:HOOK][@SEED]'",
        matches=lambda s: s == "planted" or s.startswith(("planted:", "planted@")),
        needs_weights=True,
    ),
    "local_dir": SaeResolver(None, _load_dir, "a local SAE directory", matches=_is_dir),
}.items():
    register_sae_resolver(_name, _resolver)


def _resolve(spec: str) -> SaeResolver:
    for name in SAE_RESOLVERS.names():
        resolver = SAE_RESOLVERS.get(name)
        if resolver.prefix is not None and spec.startswith(resolver.prefix):
            return resolver
    for name in SAE_RESOLVERS.names():
        resolver = SAE_RESOLVERS.get(name)
        if resolver.matches is not None and resolver.matches(spec):
            return resolver
    if "/" in spec or spec.startswith((".", "~")):
        raise SpecError(f"SAE directory {spec} does not exist")
    forms = "; ".join(SAE_RESOLVERS.get(n).describe for n in SAE_RESOLVERS.names())
    raise SpecError(f"unknown SAE spec {spec!r}. An SAE spec is one of: {forms}")


def needs_model_weights(spec: str) -> bool:
    """Whether loading ``spec`` computes with the model's weights (a planted SAE calibrates
    on its activations); the others need at most its config and tokenizer."""
    resolver = _resolve(spec)
    if resolver is SAE_RESOLVERS.get("random"):
        return needs_model_weights(_split_random(spec)[0])
    return resolver.needs_weights


def sae_directory(spec: str) -> Path | None:
    """The directory ``spec`` loads from, when it is one (checked: unknown specs, embedded
    names and missing directories raise here); None for hub and model-derived SAEs."""
    resolver = _resolve(spec)
    if resolver is SAE_RESOLVERS.get("embedded"):  # None: the loader says what to use instead
        return _shipped_directory(spec, ASSETS_DIR)
    if resolver is SAE_RESOLVERS.get("embedded_random_model"):
        return _shipped_directory(spec, RANDOM_MODEL_ASSETS_DIR)
    if resolver is SAE_RESOLVERS.get("local_dir"):
        return Path(spec).expanduser()
    if resolver is SAE_RESOLVERS.get("custom"):
        parts = spec.removeprefix("custom:").split(":", 2)
        return Path(parts[2]).expanduser() if len(parts) == 3 else None
    if resolver is SAE_RESOLVERS.get("random"):
        return sae_directory(_split_random(spec)[0])
    return None


def sae_shape(spec: str) -> tuple[int, int, str | None] | None:
    """(d_in, d_sae, hook name) of ``spec`` read from its files, weights header checked,
    without loading it; None when only loading tells (hub releases, ``identity:``)."""
    directory = sae_directory(spec)
    if directory is None:
        return None
    shape = shape_of(directory)
    weights = directory / WEIGHTS_FILE
    if FORMAT_KEY in read_cfg_json(directory) or weights.exists():
        check_weights_file(weights)
    return shape


def load_sae(
    spec: str,
    *,
    model: HookedTransformer | None = None,
    device: str | torch.device = "auto",
    dtype: str | torch.dtype | None = None,
) -> BaseSAE:
    """Resolve ``spec`` to a BaseSAE on ``device`` (sae-lens SAEs come wrapped)."""
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    sae = _resolve(spec).load(spec, model, dev)
    if dtype is not None:
        sae = sae.to(dtype=str_to_dtype(dtype))
    return sae.eval()


def check_sae_fits(model: HookedTransformer, sae: BaseSAE, ctx_len: int | None = None) -> None:
    hook_name = sae.cfg.hook_name
    check_hook(model, hook_name)
    probe = torch.zeros(1, 2, dtype=torch.long, device=model.cfg.device)
    width = int(activations_at_hook(model, probe, hook_name).shape[-1])
    if width != sae.cfg.d_in:
        raise CompatibilityError(
            f"SAE d_in={sae.cfg.d_in} but activations at {hook_name!r} of "
            f"{model.cfg.model_name!r} have width {width}"
        )
    if ctx_len is not None and ctx_len > model.cfg.n_ctx:
        raise CompatibilityError(
            f"ctx_len={ctx_len} exceeds the context of {model.cfg.model_name!r} "
            f"(n_ctx={model.cfg.n_ctx})"
        )
