"""Tiny, download-free models, tokenizers and SAEs for tests and examples."""

from sae_interp.testing.tiny import (
    TINY_LONG_MODEL_SPEC,
    TINY_MODEL_SPEC,
    TINY_WORDS,
    make_tiny_model,
    make_tiny_sae,
    make_tiny_tokenizer,
    register_tiny_model,
    write_tiny_corpus,
)

__all__ = [
    "TINY_LONG_MODEL_SPEC",
    "TINY_MODEL_SPEC",
    "TINY_WORDS",
    "make_tiny_model",
    "make_tiny_sae",
    "make_tiny_tokenizer",
    "register_tiny_model",
    "write_tiny_corpus",
]
