"""The SAE interface every eval talks to, and its files.

An SAE maps activations ``x`` at a hook of width ``d_in`` to ``d_sae`` latents
(``encode``) and back (``decode``). Architectures are small subclasses found through
:data:`SAE_CLASSES`; register your own with :func:`register_sae_class`. Also here: an SAE
directory read without loading its weights (what the runner checks before the model is
loaded, with one clear error for a broken ``cfg.json`` or weights file), and the digest of
an SAE's weights and config that keys its caches and stores.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import torch
from pydantic import Field, ValidationError
from safetensors.torch import load_file, save_file
from torch import nn

from sae_interp.base import FrozenModel
from sae_interp.base.errors import SpecError
from sae_interp.base.registry import Registry
from sae_interp.base.torch_utils import str_to_dtype
from sae_interp.models.hooks import hook_layer

CONFIG_FILE = "cfg.json"
WEIGHTS_FILE = "sae_weights.safetensors"
FORMAT_KEY = "sae_interp_format"


class SAEConfig(FrozenModel):
    architecture: str
    d_in: int = Field(gt=0)
    d_sae: int = Field(gt=0)
    hook_name: str
    model_name: str = ""
    dtype: str = "float32"
    apply_b_dec_to_input: bool = False
    k: int | None = Field(default=None, gt=0, description="Active latents per token (TopK).")
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def hook_layer(self) -> int | None:
        return hook_layer(self.hook_name)


class BaseSAE(nn.Module, ABC):
    """Encoder/decoder over activations at one hook. Subclasses implement ``encode``."""

    architecture: ClassVar[str] = ""
    W_enc: torch.Tensor  # [d_in, d_sae]
    b_enc: torch.Tensor  # [d_sae]
    W_dec: torch.Tensor  # [d_sae, d_in]
    b_dec: torch.Tensor  # [d_in]

    def __init__(self, cfg: SAEConfig) -> None:
        super().__init__()
        self.cfg = cfg

    @abstractmethod
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """[..., d_in] -> [..., d_sae] latent activations."""

    def encode_with_tokens(self, x: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """``encode`` given also the token ids [...] at each position (collection passes them;
        only SAEs that read token identity, such as the planted SAE, use them)."""
        return self.encode(x)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """[..., d_sae] -> [..., d_in] reconstruction."""
        return latents @ self.W_dec + self.b_dec

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    @property
    def device(self) -> torch.device:
        return self.W_dec.device

    @property
    def dtype(self) -> torch.dtype:
        return self.W_dec.dtype

    def describe(self) -> dict[str, Any]:
        """Config as a plain dict, recorded in every eval output's provenance."""
        return self.cfg.model_dump()

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        save_file(tensors, str(directory / WEIGHTS_FILE))
        payload = {**self.cfg.model_dump(), FORMAT_KEY: 1}
        (directory / CONFIG_FILE).write_text(json.dumps(payload, indent=2))
        return directory

    @classmethod
    def load(cls, directory: Path, device: str | torch.device = "cpu") -> BaseSAE:
        """Load a directory written by :meth:`save` (class taken from its config)."""
        cfg = sae_config_from(directory)
        sae_cls = cls if cls.architecture == cfg.architecture else SAE_CLASSES.get(cfg.architecture)
        sae = sae_cls(cfg)
        check_weights_file(directory / WEIGHTS_FILE)
        sae.load_state_dict(load_file(str(directory / WEIGHTS_FILE)))
        return sae.to(device=device, dtype=str_to_dtype(cfg.dtype))


class LinearSAE(BaseSAE):
    """SAE with the usual W_enc, b_enc, W_dec, b_dec parameters."""

    def __init__(self, cfg: SAEConfig) -> None:
        super().__init__(cfg)
        dtype = str_to_dtype(cfg.dtype)
        self.W_enc = nn.Parameter(torch.zeros(cfg.d_in, cfg.d_sae, dtype=dtype))
        self.b_enc = nn.Parameter(torch.zeros(cfg.d_sae, dtype=dtype))
        self.W_dec = nn.Parameter(torch.zeros(cfg.d_sae, cfg.d_in, dtype=dtype))
        self.b_dec = nn.Parameter(torch.zeros(cfg.d_in, dtype=dtype))

    def pre_acts(self, x: torch.Tensor) -> torch.Tensor:
        if self.cfg.apply_b_dec_to_input:
            x = x - self.b_dec
        return x @ self.W_enc + self.b_enc


SAE_CLASSES: Registry[type[BaseSAE]] = Registry("SAE architecture")

SAEClassT = TypeVar("SAEClassT", bound=type[BaseSAE])


def register_sae_class(name: str) -> Callable[[SAEClassT], SAEClassT]:
    """Class decorator: make an SAE architecture loadable by name."""

    def wrap(cls: SAEClassT) -> SAEClassT:
        cls.architecture = name
        SAE_CLASSES.register(name, cls, overwrite=True)
        return cls

    return wrap


def build_sae(cfg: SAEConfig) -> BaseSAE:
    try:
        sae_cls = SAE_CLASSES.get(cfg.architecture)
    except SpecError as err:
        raise SpecError(f"{err}. Register custom classes with register_sae_class().") from None
    return sae_cls(cfg)


def sae_fingerprint(sae: BaseSAE) -> str:
    """Changes whenever the SAE's weights or config change."""
    digest = hashlib.sha256(sae.cfg.model_dump_json().encode())
    for name, tensor in sorted(sae.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()[:24]


def read_cfg_json(directory: Path) -> dict[str, Any]:
    """``directory/cfg.json`` as a dict; a missing or malformed file names the path."""
    path = directory / CONFIG_FILE
    if not path.exists():
        raise SpecError(f"{directory} holds no {CONFIG_FILE}; not an SAE directory")
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise SpecError(
            f"{path}, line {err.lineno} column {err.colno}: not valid JSON ({err.msg})"
        ) from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: expected a JSON object, got a {type(raw).__name__}")
    return raw


def sae_config_from(directory: Path) -> SAEConfig:
    """The :class:`SAEConfig` of an sae_interp SAE directory, naming the path and the
    missing or bad keys when ``cfg.json`` does not describe an SAE."""
    raw = dict(read_cfg_json(directory))
    raw.pop(FORMAT_KEY, None)
    try:
        return SAEConfig.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: "
            + ("missing" if e["type"] == "missing" else e["msg"])
            for e in err.errors()
        )
        raise SpecError(
            f"{directory / CONFIG_FILE} does not describe an SAE ({problems})"
        ) from None


def check_weights_file(path: Path) -> None:
    """Read the safetensors header of ``path`` (no tensor is read) so that a missing,
    truncated or corrupt file is reported by name before any model is loaded."""
    if not path.exists():
        raise SpecError(f"{path} does not exist; the SAE directory has no weights")
    size = path.stat().st_size
    try:
        with path.open("rb") as handle:
            header_len = int.from_bytes(handle.read(8), "little")
            if size < 8 or header_len > size - 8:
                raise ValueError("the header is cut off")
            header = json.loads(handle.read(header_len))
        ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
        raise SpecError(f"{path} is not a readable safetensors file ({err})") from None
    if 8 + header_len + max(ends, default=0) > size:
        raise SpecError(
            f"{path} is truncated ({size} bytes, the header promises "
            f"{8 + header_len + max(ends)}); save or download the SAE again"
        )


def shape_of(directory: Path) -> tuple[int, int, str | None]:
    """(d_in, d_sae, hook name) of an SAE directory, sae_interp or sae-lens format."""
    raw = read_cfg_json(directory)
    if FORMAT_KEY in raw:
        cfg = sae_config_from(directory)
        return cfg.d_in, cfg.d_sae, cfg.hook_name
    missing = [k for k in ("d_in", "d_sae") if not isinstance(raw.get(k), int)]
    if missing:
        raise SpecError(f"{directory / CONFIG_FILE} is missing {', '.join(missing)}")
    hook = raw.get("hook_name") or (raw.get("metadata") or {}).get("hook_name")
    return int(raw["d_in"]), int(raw["d_sae"]), hook if isinstance(hook, str) else None
