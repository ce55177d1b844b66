"""The planted SAE on the tiny model: exact token-set detectors, calibrated decoys, saving,
loading through the registry, and the keyword matcher of each token set."""

from pathlib import Path

import pytest
import torch

from sae_interp.activations.collect import iter_latent_batches
from sae_interp.base.errors import SpecError
from sae_interp.saes import BaseSAE
from sae_interp.saes.planted import (
    build_planted_sae,
    decoy_latents,
    parse_planted_spec,
    planted_explanations,
    planted_token_sets,
)
from sae_interp.saes.planted_sets import TOKEN_SETS, token_text
from sae_interp.testing.tiny import TINY_WORDS

SETS = ("numbers", "colours", "closing_brackets")


def _tokens(tokenizer, n_rows: int = 12, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    words = torch.randint(4, 4 + len(TINY_WORDS), (n_rows, 31), generator=gen)
    bos = torch.full((n_rows, 1), tokenizer.bos_token_id)
    return torch.cat([bos, words], dim=1)


@pytest.fixture
def planted(tiny_model, tokenizer):
    return build_planted_sae(
        tiny_model, _tokens(tokenizer), hook_name="blocks.0.hook_resid_post", sets=SETS, seed=3
    )


def test_planted_latents_fire_exactly_on_their_token_sets(planted, tiny_model, tokenizer) -> None:
    tokens = _tokens(tokenizer, seed=1)
    (batch,) = list(iter_latent_batches(tiny_model, planted, tokens, batch_size=64, progress=False))
    words = [[token_text(tokenizer.decode([int(t)])) for t in row] for row in tokens]
    expected = {
        "numbers": lambda w: w.isdigit() or w in {"one", "two", "three"},
        "colours": lambda w: w in {"red", "blue", "green"},
        "closing_brackets": lambda w: w == ")",
    }
    for latent, name in enumerate(SETS):
        fires = batch.latents_BLF[..., latent] > 0
        truth = torch.tensor([[expected[name](w) for w in row] for row in words])
        truth[:, 0] = False  # BOS is masked
        assert torch.equal(fires, truth), name
        values = batch.latents_BLF[..., latent][fires]
        assert bool(((values > 1) & (values < 2)).all())
        assert values.std() > 0  # not all ties


def test_decoys_fire_about_as_often_as_their_planted_partners(
    planted, tiny_model, tokenizer
) -> None:
    tokens = _tokens(tokenizer)  # the calibration tokens themselves
    (batch,) = list(iter_latent_batches(tiny_model, planted, tokens, batch_size=64, progress=False))
    rates = (batch.latents_BLF > 0).float().sum((0, 1)) / batch.mask_BL.sum()
    assert decoy_latents(planted) == [3, 4, 5]
    for j in range(3):
        assert rates[3 + j] == pytest.approx(float(rates[j]), abs=0.02)
        assert rates[3 + j] > 0


def test_explanations_sets_and_round_trip(planted, tmp_path: Path, tiny_model, tokenizer) -> None:
    assert planted_explanations(planted) == {
        0: "numbers: digits and number words",
        1: "colour words",
        2: "closing brackets and parentheses",
    }
    assert [s.name for s in planted_token_sets(planted).values()] == list(SETS)
    loaded = BaseSAE.load(planted.save(tmp_path / "planted"))
    tokens = _tokens(tokenizer, seed=2)
    acts = torch.randn(*tokens.shape, 16)
    assert torch.equal(
        loaded.encode_with_tokens(acts, tokens), planted.encode_with_tokens(acts, tokens)
    )
    with pytest.raises(SpecError, match="token ids"):
        planted.encode(acts)


def test_bad_specs_and_sets_are_rejected(tiny_model, tokenizer) -> None:
    assert parse_planted_spec("planted") == ("blocks.6.hook_resid_post", 0)
    assert parse_planted_spec("planted:blocks.0.hook_resid_post@4") == (
        "blocks.0.hook_resid_post",
        4,
    )
    with pytest.raises(SpecError, match="integer seed"):
        parse_planted_spec("planted@x")
    with pytest.raises(SpecError, match="no token"):  # the tiny vocabulary has no weekday
        build_planted_sae(
            tiny_model, _tokens(tokenizer), hook_name="blocks.0.hook_resid_post", sets=["dates"]
        )
    with pytest.raises(SpecError, match="unknown planted sets"):
        build_planted_sae(tiny_model, _tokens(tokenizer), sets=["verbs"])


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("numbers", "Numbers and digits", "dates in text"),
        ("dates", "days of the week", "numbers"),
        ("colours", "color names", "words"),
        ("closing_brackets", "closing parentheses", "punctuation marks"),
        ("capitalised", "Capitalized words", "words"),
        ("pronouns", "personal pronouns", "people"),
    ],
)
def test_keyword_matchers(name: str, good: str, bad: str) -> None:
    assert TOKEN_SETS[name].names_this_set(good)
    assert not TOKEN_SETS[name].names_this_set(bad)
    assert not TOKEN_SETS[name].names_this_set(None)
