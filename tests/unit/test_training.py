"""Activation caching and sae-lens training on cached activations (tiny model, no network)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sae_interp.models import activations_at_hook
from sae_interp.models.randomized import randomize_weights
from sae_interp.testing.tiny import make_tiny_model
from sae_interp.training.activation_cache import (
    cache_activations,
    keep_mask,
    load_cached_activations,
    shuffled_batches,
)
from sae_interp.training.cached_training import TrainSettings, build_training_sae, train_on_cache
from sae_interp.training.convert import from_saelens

HOOK = "blocks.0.hook_resid_post"


@pytest.fixture(scope="module")
def tiny():  # type: ignore[no-untyped-def]
    return make_tiny_model()


def _tokens(model, n_rows: int = 10, ctx: int = 12) -> torch.Tensor:  # type: ignore[no-untyped-def]
    gen = torch.Generator().manual_seed(0)
    tokens = torch.randint(4, model.cfg.d_vocab, (n_rows, ctx), generator=gen)
    tokens[:, 0] = model.tokenizer.bos_token_id
    tokens[3, -2:] = model.tokenizer.pad_token_id
    return tokens


def test_cache_matches_model_and_drops_special_tokens(tiny, tmp_path: Path) -> None:
    tokens = _tokens(tiny)
    cache_activations(tiny, tokens, HOOK, tmp_path, batch_size=3, rows_per_shard=4)
    cached = load_cached_activations(tmp_path)
    expected = activations_at_hook(tiny, tokens, HOOK)[
        keep_mask(tokens, tiny.tokenizer.all_special_ids)
    ]
    assert cached.shape == (10 * 11 - 2, 16)
    assert len(list(tmp_path.glob("shard_*.safetensors"))) == 3
    torch.testing.assert_close(cached.float(), expected, atol=2e-3, rtol=2e-3)


def test_cache_resumes_missing_shards_and_refuses_other_collections(tiny, tmp_path: Path) -> None:
    tokens = _tokens(tiny)
    cache_activations(tiny, tokens, HOOK, tmp_path, rows_per_shard=4)
    first = load_cached_activations(tmp_path)
    stamps = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    cache_activations(tiny, tokens, HOOK, tmp_path, rows_per_shard=4)  # complete: reused as is
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == stamps
    (tmp_path / "shard_00001.safetensors").unlink()
    with pytest.raises(ValueError, match=r"incomplete \(missing shards \[1\]\)"):
        load_cached_activations(tmp_path)
    cache_activations(tiny, tokens, HOOK, tmp_path, rows_per_shard=4)
    assert torch.equal(load_cached_activations(tmp_path), first)
    with pytest.raises(ValueError, match="another collection"):
        cache_activations(tiny, tokens, "blocks.1.hook_resid_post", tmp_path, rows_per_shard=4)
    # the same architecture with re-drawn weights is another model: not mixed in either
    redrawn = randomize_weights(make_tiny_model(), seed=1)
    with pytest.raises(ValueError, match="another collection"):
        cache_activations(redrawn, tokens, HOOK, tmp_path, rows_per_shard=4)


def test_incomplete_or_missing_cache_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no activation cache"):
        load_cached_activations(tmp_path)
    (tmp_path / "meta.json").write_text('{"complete": false}')
    with pytest.raises(ValueError, match="incomplete"):
        load_cached_activations(tmp_path)


def test_shuffled_batches_cover_each_epoch_once() -> None:
    acts = torch.arange(12, dtype=torch.float16).unsqueeze(1)
    batches = list(shuffled_batches(acts, batch_size=4, n_batches=6, seed=0))
    assert len(batches) == 6 and all(b.dtype == torch.float32 for b in batches)
    first, second = torch.cat(batches[:3]), torch.cat(batches[3:])
    assert sorted(first.flatten().tolist()) == list(range(12))
    assert sorted(second.flatten().tolist()) == list(range(12))
    assert not torch.equal(first, second)


def _sparse_data(n: int = 6000, d: int = 16, n_dirs: int = 24) -> torch.Tensor:
    """Sums of 2 of ``n_dirs`` fixed directions plus a large shared offset."""
    gen = torch.Generator().manual_seed(1)
    dirs = torch.nn.functional.normalize(torch.randn(n_dirs, d, generator=gen), dim=-1)
    idx = torch.randint(0, n_dirs, (n, 2), generator=gen)
    mags = 1 + torch.rand(n, 2, generator=gen)
    x = (dirs[idx] * mags.unsqueeze(-1)).sum(1) + 5.0
    return x.half()


SPEC = {
    "architecture": "topk",
    "d_in": 16,
    "d_sae": 32,
    "k": 2,
    "normalize_activations": "expected_average_only_in",
}


def test_trains_topk_sae_that_reconstructs_and_converts() -> None:
    acts = _sparse_data()
    settings = TrainSettings(
        training_tokens=150 * 64,
        batch_tokens=64,
        lr=1e-2,
        lr_warm_up_steps=10,
        n_batches_for_norm_estimate=5,
    )
    trained, record = train_on_cache(SPEC, acts, settings, hook_name=HOOK, model_name="tiny")
    x = acts[:512].float()
    with torch.no_grad():
        recon = trained.decode(trained.encode(x))
    ev = 1 - ((recon - x) ** 2).sum() / ((x - x.mean(0)) ** 2).sum()
    assert ev > 0.8
    assert record["scaling_factor"] is not None and record["train_seconds"] >= 0
    assert settings.record()["steps"] == 150 and settings.dead_window == 25


def test_b_dec_starts_at_the_scaled_mean_and_bad_init_is_refused() -> None:
    acts = _sparse_data()
    settings = TrainSettings(training_tokens=0, batch_tokens=64, n_batches_for_norm_estimate=5)
    trained, _ = train_on_cache(SPEC, acts, settings, hook_name=HOOK, model_name="tiny")
    # zero steps: b_dec is the initialisation, unscaled back to activation units on folding
    torch.testing.assert_close(trained.b_dec.detach(), acts.float().mean(0), atol=0.05, rtol=0.02)
    with pytest.raises(ValueError, match="init_b_dec"):
        train_on_cache(
            SPEC,
            acts,
            TrainSettings(training_tokens=64, init_b_dec="median"),
            hook_name=HOOK,
            model_name="tiny",
        )


@pytest.mark.parametrize(
    ("architecture", "ours_arch"), [("topk", "topk"), ("batchtopk", "jumprelu")]
)
def test_saved_inference_sae_converts_to_our_class(
    architecture: str, ours_arch: str, tmp_path: Path
) -> None:
    from sae_lens import SAE

    acts = _sparse_data()
    settings = TrainSettings(
        training_tokens=20 * 64, batch_tokens=64, n_batches_for_norm_estimate=5
    )
    spec = {**SPEC, "architecture": architecture}
    trained, _ = train_on_cache(spec, acts, settings, hook_name=HOOK, model_name="tiny")
    trained.save_inference_model(str(tmp_path))
    inner = SAE.load_from_disk(str(tmp_path), device="cpu")
    ours = from_saelens(inner, "tiny", acts[:64].float())
    x = acts[:64].float()
    with torch.no_grad():
        torch.testing.assert_close(ours.encode(x), inner.encode(x), atol=1e-4, rtol=1e-4)
        assert (ours.encode(x) > 0).sum(-1).float().mean() > 0
    assert ours.cfg.architecture == ours_arch and ours.cfg.hook_name == HOOK


def test_build_training_sae_names_hook_and_architecture() -> None:
    sae = build_training_sae(SPEC, HOOK, "tiny")
    assert sae.cfg.metadata.hook_name == HOOK and sae.cfg.k == 2
