"""A word-level tokenizer, a 2-layer random TransformerLens model and small SAEs.

Nothing here downloads anything; everything is seeded and deterministic.
"""

from __future__ import annotations

import atexit
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from transformer_lens import HookedTransformer, HookedTransformerConfig

from sae_interp.models.facts import ModelFacts
from sae_interp.models.loading import ModelResolver, register_model_resolver
from sae_interp.models.shell import weightless
from sae_interp.saes.base import BaseSAE, SAEConfig, build_sae

TINY_MODEL_SPEC = "tiny-random"
TINY_LONG_MODEL_SPEC = "tiny-random-256"  # same vocabulary, 256 positions (scoring LM tests)
SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]
TINY_WORDS = [
    "the",
    "a",
    "cat",
    "dog",
    "bird",
    "sat",
    "ran",
    "flew",
    "on",
    "under",
    "over",
    "mat",
    "tree",
    "sky",
    "red",
    "blue",
    "green",
    "one",
    "two",
    "three",
    "and",
    "but",
    "then",
    "quickly",
    "slowly",
    ".",
    ",",
    "(",
    ")",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "0",
]


_TOKENIZER_DIR: Path | None = None


def _tokenizer_dir() -> Path:
    """A saved copy of the tiny tokenizer (TransformerLens reloads tokenizers by path)."""
    global _TOKENIZER_DIR
    if _TOKENIZER_DIR is None or not _TOKENIZER_DIR.exists():
        from tokenizers import Tokenizer, models, pre_tokenizers
        from transformers import PreTrainedTokenizerFast

        vocab = {tok: i for i, tok in enumerate(SPECIALS + TINY_WORDS)}
        backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
        backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        tokenizer = PreTrainedTokenizerFast(
            tokenizer_object=backend,
            bos_token="<bos>",
            eos_token="<eos>",
            pad_token="<pad>",
            unk_token="<unk>",
        )
        directory = Path(tempfile.mkdtemp(prefix="sae_interp_tiny_tok_"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)  # one per process
        tokenizer.save_pretrained(str(directory))
        _TOKENIZER_DIR = directory
    return _TOKENIZER_DIR


def make_tiny_tokenizer() -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(_tokenizer_dir()), local_files_only=True)


def make_tiny_model(seed: int = 0, n_ctx: int = 64, device: str = "cpu") -> HookedTransformer:
    tokenizer = make_tiny_tokenizer()
    cfg = tiny_config(len(tokenizer), seed, n_ctx, device)
    model = HookedTransformer(cfg, tokenizer=tokenizer, default_padding_side="right")
    model.eval()
    return model


def tiny_shell(n_ctx: int = 64, dtype: torch.dtype = torch.float32) -> HookedTransformer:
    """The tiny model without its weights (:mod:`sae_interp.models.shell`)."""
    tokenizer = make_tiny_tokenizer()
    cfg = tiny_config(len(tokenizer), 0, n_ctx, "cpu")
    cfg.dtype = dtype
    return weightless(cfg, tokenizer, default_padding_side="right")


def tiny_config(d_vocab: int, seed: int, n_ctx: int, device: str) -> HookedTransformerConfig:
    return HookedTransformerConfig(
        n_layers=2,
        d_model=16,
        d_head=4,
        n_heads=4,
        d_mlp=32,
        n_ctx=n_ctx,
        d_vocab=d_vocab,
        act_fn="gelu",
        normalization_type="LN",
        model_name="tiny-random",
        seed=seed,
        device=device,
    )


def register_tiny_model() -> None:
    """Make ``load_model("tiny-random")`` build the tiny model (used by CLI tests)."""
    register_model_resolver(
        "tiny",
        ModelResolver(
            matches=lambda spec: spec == TINY_MODEL_SPEC,
            load=lambda spec, device, dtype: make_tiny_model(device=str(device)).to(dtype),
            describe=f"'{TINY_MODEL_SPEC}' (test model)",
            facts=lambda spec: ModelFacts(TINY_MODEL_SPEC, n_layers=2, d_model=16, n_ctx=64),
            shell=lambda spec, dtype: tiny_shell(dtype=dtype),
        ),
    )
    register_model_resolver(
        "tiny-long",
        ModelResolver(
            matches=lambda spec: spec == TINY_LONG_MODEL_SPEC,
            load=lambda spec, device, dtype: make_tiny_model(n_ctx=256, device=str(device)).to(
                dtype
            ),
            describe=f"'{TINY_LONG_MODEL_SPEC}' (test model)",
            facts=lambda spec: ModelFacts(TINY_LONG_MODEL_SPEC, n_layers=2, d_model=16, n_ctx=256),
            shell=lambda spec, dtype: tiny_shell(n_ctx=256, dtype=dtype),
        ),
    )


def make_tiny_sae(
    architecture: str = "topk",
    d_in: int = 16,
    d_sae: int = 48,
    hook_name: str = "blocks.0.hook_resid_post",
    k: int | None = 4,
    seed: int = 0,
) -> BaseSAE:
    cfg = SAEConfig(
        architecture=architecture,
        d_in=d_in,
        d_sae=d_sae,
        hook_name=hook_name,
        model_name="tiny-random",
        k=k if architecture == "topk" else None,
    )
    sae = build_sae(cfg)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        w_dec = torch.randn(d_sae, d_in, generator=gen)
        w_dec /= w_dec.norm(dim=-1, keepdim=True)
        sae.W_dec.copy_(w_dec)
        sae.W_enc.copy_(w_dec.T)
        sae.b_enc.copy_(-0.05 * torch.rand(d_sae, generator=gen))
    return sae.eval()


def write_tiny_corpus(path: Path, n_docs: int = 60, seed: int = 0) -> Path:
    """Paragraphs of random words from the tiny vocabulary, blank-line separated."""
    rng = random.Random(seed)
    docs = [
        " ".join(rng.choice(TINY_WORDS) for _ in range(rng.randint(8, 40))) for _ in range(n_docs)
    ]
    path.write_text("\n\n".join(docs) + "\n")
    return path
