from types import SimpleNamespace

import torch

from sae_interp.activations.latents import match_by_frequency
from sae_interp.scorers.controls import shuffled_explanation_sources


def test_shuffled_control_never_uses_an_identical_text() -> None:
    texts = {1: "punctuation marks", 2: "Punctuation  marks", 3: "numbers", 4: "colors", 5: "days"}
    for seed in range(30):
        sources = shuffled_explanation_sources(list(texts), seed, texts)
        assert set(sources) == set(texts)
        for latent, source in sources.items():
            assert source != latent
            assert " ".join(texts[source].lower().split()) != " ".join(
                texts[latent].lower().split()
            )


def test_shuffled_control_is_a_derangement_without_ties() -> None:
    texts = {i: f"text {i}" for i in range(8)}
    sources = shuffled_explanation_sources(list(texts), 3, texts)
    assert sorted(sources.values()) == sorted(texts)  # each explanation used once
    assert all(s != latent for latent, s in sources.items())


def test_latents_with_no_distinct_text_get_no_control() -> None:
    same = {1: "words", 2: "words", 3: "words"}
    assert shuffled_explanation_sources(list(same), 0, same) == {}
    mixed = {1: "words", 2: "words", 3: "numbers"}
    sources = shuffled_explanation_sources(list(mixed), 0, mixed)
    assert sources[3] in (1, 2) and sources[1] == 3 and sources[2] == 3


def test_match_by_frequency_picks_closest_unused_latents() -> None:
    stats = SimpleNamespace(
        count=torch.tensor([0, 5, 5, 5, 1]),
        frequency=torch.tensor([0.0, 0.10, 0.20, 0.30, 0.25]),
    )
    cache = SimpleNamespace(stats=stats, latent_ids=[10, 11, 12, 13, 14])
    # latent 14 fired on too few tokens; latent 10 is dead
    assert match_by_frequency([0.29, 0.28, 0.01], cache, min_count=2) == [13, 12, 11]  # type: ignore[arg-type]
    assert len(match_by_frequency([0.1] * 5, cache, min_count=2)) == 3  # type: ignore[arg-type]
