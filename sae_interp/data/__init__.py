"""Corpora: the embedded default, Hugging Face datasets and local files -> token blocks."""

from sae_interp.data.text_sources import (
    CORPUS_RESOLVERS,
    CorpusResolver,
    DocumentStream,
    open_corpus,
)
from sae_interp.data.tokenize import load_corpus

__all__ = ["CORPUS_RESOLVERS", "CorpusResolver", "DocumentStream", "load_corpus", "open_corpus"]
