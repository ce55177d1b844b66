"""A planted SAE: latents whose meaning is known, for checking scorers and explainers.

The first latents are exact detectors of known token sets (:mod:`planted_sets`): latent ``i``
is active exactly on the tokens of its set, with an activation between 1 and 2 (1 + the
sigmoid of a random projection of the residual, so quantile bins are not all ties). The
remaining latents are decoys: random residual directions, each thresholded so that it fires
about as often as its planted partner (thresholds calibrated on real activations at build
time). Built deterministically in code from a seed; nothing is shipped.

Token identity is not a linear function of the residual, so a planted SAE needs the token
ids: collection calls :meth:`BaseSAE.encode_with_tokens`. Plain ``encode(x)`` raises, so
evals that encode activations without tokens (core, steering) cannot use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from transformer_lens import HookedTransformer

from sae_interp.base.errors import SpecError
from sae_interp.saes.base import BaseSAE, SAEConfig, register_sae_class
from sae_interp.saes.planted_sets import DEFAULT_SETS, TOKEN_SETS, TokenSet, members
from sae_interp.saes.planted_sets import vocabulary_texts as _vocabulary_texts

DEFAULT_HOOK = "blocks.6.hook_resid_post"
MAX_DECOY_RATE = 0.5


@register_sae_class("planted")
class PlantedSAE(BaseSAE):
    """Token-set detectors (latents ``0..n_planted-1``) followed by thresholded random
    decoy directions. ``cfg.extra``: ``planted_sets`` (names, in latent order), ``vocab_size``,
    ``seed``."""

    def __init__(self, cfg: SAEConfig) -> None:
        super().__init__(cfg)
        n_planted = len(cfg.extra.get("planted_sets", []))
        vocab = int(cfg.extra.get("vocab_size", 1))
        if not 0 < n_planted <= cfg.d_sae:
            raise SpecError(f"a planted SAE needs 1..d_sae planted sets, got {n_planted}")
        self.n_planted = n_planted
        self.W_enc = nn.Parameter(torch.zeros(cfg.d_in, cfg.d_sae))
        self.b_enc = nn.Parameter(torch.zeros(cfg.d_sae))
        self.W_dec = nn.Parameter(torch.zeros(cfg.d_sae, cfg.d_in))
        self.b_dec = nn.Parameter(torch.zeros(cfg.d_in))
        self.membership: torch.Tensor
        self.register_buffer("membership", torch.zeros(vocab, n_planted))

    @property
    def planted_sets(self) -> list[str]:
        return list(self.cfg.extra["planted_sets"])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        raise SpecError(
            "a planted SAE detects token identity and needs the token ids; this eval encodes "
            "activations without them (use an explanation-based eval)"
        )

    def encode_with_tokens(self, x: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        pre = x.to(self.W_enc.dtype) @ self.W_enc + self.b_enc
        member = self.membership[tokens.to(self.membership.device).long()]
        planted = member.to(pre.dtype) * (1.0 + torch.sigmoid(pre[..., : self.n_planted]))
        decoys = torch.relu(pre[..., self.n_planted :])
        return torch.cat([planted, decoys], dim=-1)


def planted_token_sets(sae: BaseSAE) -> dict[int, TokenSet]:
    """Latent id -> the token set it detects (decoys and ordinary SAEs: none)."""
    if not isinstance(sae, PlantedSAE):
        return {}
    return {i: TOKEN_SETS[name] for i, name in enumerate(sae.planted_sets)}


def planted_explanations(sae: BaseSAE) -> dict[int, str]:
    """Latent id -> the correct explanation of each planted latent."""
    return {i: s.explanation for i, s in planted_token_sets(sae).items()}


def decoy_latents(sae: BaseSAE) -> list[int]:
    if not isinstance(sae, PlantedSAE):
        return []
    return list(range(sae.n_planted, sae.cfg.d_sae))


@torch.no_grad()
def build_planted_sae(
    model: HookedTransformer,
    calibration_tokens: torch.Tensor,
    *,
    hook_name: str = DEFAULT_HOOK,
    sets: Sequence[str] = DEFAULT_SETS,
    n_decoys: int | None = None,
    seed: int = 0,
) -> PlantedSAE:
    """Planted latents for ``sets`` (in order) and ``n_decoys`` decoys (default: one per
    set), whose firing thresholds are calibrated on ``calibration_tokens`` [N, L]."""
    from sae_interp.models.hooks import activations_at_hook, special_token_ids, valid_token_mask

    unknown = [s for s in sets if s not in TOKEN_SETS]
    if unknown or not sets:
        raise SpecError(f"unknown planted sets {unknown}; known: {', '.join(TOKEN_SETS)}")
    tokenizer = model.tokenizer
    texts = _vocabulary_texts(tokenizer)
    vocab = max(len(texts), int(model.cfg.d_vocab))
    membership = torch.zeros(vocab, len(sets))
    for j, name in enumerate(sets):
        ids = members(texts, TOKEN_SETS[name])
        if not ids:
            raise SpecError(f"planted set {name!r} has no token in this model's vocabulary")
        membership[ids, j] = 1.0
    acts = activations_at_hook(model, calibration_tokens.to(model.cfg.device), hook_name)
    valid = valid_token_mask(calibration_tokens, special_token_ids(tokenizer))
    x = acts.detach().float().cpu()[valid.cpu()]  # [n_valid, d_in]
    rates = membership[calibration_tokens.cpu()[valid.cpu()]].mean(0)  # [n_planted]
    n_decoys = len(sets) if n_decoys is None else n_decoys
    d_in, d_sae = int(x.shape[-1]), len(sets) + n_decoys
    gen = torch.Generator().manual_seed(seed)
    directions = torch.randn(d_sae, d_in, generator=gen)
    directions /= directions.norm(dim=-1, keepdim=True)
    scale = float(x.norm(dim=-1).mean().clamp(min=1e-6))
    w_enc = directions.T.clone() / scale
    b_enc = torch.zeros(d_sae)
    for j in range(n_decoys):
        latent = len(sets) + j
        rate = float(rates[j % len(sets)].clamp(1.0 / max(1, len(x)), MAX_DECOY_RATE))
        projection = (x @ directions[latent]).double()
        threshold = torch.quantile(projection, 1.0 - rate).item()
        w_enc[:, latent] = directions[latent]
        b_enc[latent] = -threshold
    cfg = SAEConfig(
        architecture="planted",
        d_in=d_in,
        d_sae=d_sae,
        hook_name=hook_name,
        model_name=model.cfg.model_name,
        extra={"planted_sets": list(sets), "vocab_size": vocab, "seed": seed},
    )
    sae = PlantedSAE(cfg)
    sae.W_enc.copy_(w_enc)
    sae.b_enc.copy_(b_enc)
    sae.W_dec.copy_(directions * scale)
    sae.membership.copy_(membership)
    return sae.eval()


def parse_planted_spec(spec: str) -> tuple[str, int]:
    """``planted[:HOOK][@SEED]`` -> (hook, seed)."""
    body = spec.removeprefix("planted").removeprefix(":")
    hook, _, seed = body.partition("@")
    if seed and not seed.isdigit():
        raise SpecError(f"expected 'planted[:HOOK][@SEED]' with an integer seed, got {spec!r}")
    return hook or DEFAULT_HOOK, int(seed or 0)


CALIBRATION_CORPUS = "embedded:validation"  # the default corpus of the evals
CALIBRATION_TOKENS = 4096
CALIBRATION_CTX = 128


def load_planted(spec: str, model: Any, device: torch.device) -> BaseSAE:
    """The ``planted[:HOOK][@SEED]`` resolver: a planted SAE for ``model`` at HOOK (default
    ``blocks.6.hook_resid_post``), decoys calibrated on the embedded validation corpus."""
    from sae_interp.data import load_corpus
    from sae_interp.models.hooks import check_hook

    hook, seed = parse_planted_spec(spec)
    if model is None:
        raise SpecError("'planted' needs the model (its vocabulary and activations)")
    check_hook(model, hook)
    tokens = load_corpus(CALIBRATION_CORPUS, model.tokenizer, CALIBRATION_TOKENS, CALIBRATION_CTX)
    return build_planted_sae(model, tokens, hook_name=hook, seed=seed).to(device)
