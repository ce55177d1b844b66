from pathlib import Path

import pytest
import torch

from sae_interp.testing import (
    make_tiny_model,
    make_tiny_sae,
    make_tiny_tokenizer,
    register_tiny_model,
    write_tiny_corpus,
)


@pytest.fixture(autouse=True)
def isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Unit tests never read or write the user's cache."""
    root = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("SAE_INTERP_CACHE", str(root))
    return root


@pytest.fixture(scope="session", autouse=True)
def tiny_model_spec() -> None:
    register_tiny_model()


@pytest.fixture
def tokenizer():  # type: ignore[no-untyped-def]
    return make_tiny_tokenizer()


@pytest.fixture
def tiny_model():  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    return make_tiny_model()


@pytest.fixture
def tiny_sae():  # type: ignore[no-untyped-def]
    return make_tiny_sae()


@pytest.fixture
def corpus_file(tmp_path: Path) -> Path:
    return write_tiny_corpus(tmp_path / "corpus.txt")
