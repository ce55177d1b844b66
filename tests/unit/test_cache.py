from pathlib import Path

import pytest
import torch

from sae_interp.activations import (
    LatentCache,
    LatentCacheWriter,
    SparseEntries,
    build_latent_cache,
    iter_latent_batches,
    valid_token_mask,
)
from sae_interp.activations import collect as collect_module
from sae_interp.activations.collect import CacheTarget, build_latent_caches
from sae_interp.base.errors import CacheError
from sae_interp.testing import make_tiny_sae


@pytest.fixture
def tokens(tiny_model) -> torch.Tensor:
    gen = torch.Generator().manual_seed(1)
    toks = torch.randint(4, tiny_model.cfg.d_vocab, (10, 24), generator=gen)
    toks[:, 0] = tiny_model.tokenizer.bos_token_id
    toks[3, 12] = tiny_model.tokenizer.bos_token_id  # a document boundary mid-row
    return toks


def _dense(tiny_model, sae, tokens, latent_ids=None) -> torch.Tensor:
    parts = [
        b.latents_BLF
        for b in iter_latent_batches(
            tiny_model, sae, tokens, batch_size=4, latent_ids=latent_ids, progress=False
        )
    ]
    return torch.cat(parts)


def test_sparse_cache_round_trip_equals_dense(tmp_path: Path, tiny_model, tokens) -> None:
    sae = make_tiny_sae(d_sae=48, k=4)
    dense = _dense(tiny_model, sae, tokens)
    # tiny chunks and shards force several of each
    cache = build_latent_cache(
        tiny_model, sae, tokens, tmp_path / "c", batch_size=3, chunk_entries=50, progress=False
    )
    assert len(list((tmp_path / "c").glob("shard_*.safetensors"))) == 1
    assert torch.equal(cache.to_dense(), dense)
    assert torch.equal(cache.tokens, tokens)
    for latent in (0, 7, 47):
        assert torch.equal(cache.dense_latent(latent), dense[:, :, latent])
    # many shards when shards are small
    writer_cache = _rebuild_with_small_shards(tmp_path / "s", tiny_model, sae, tokens)
    assert len(writer_cache.meta["shards"]) > 3
    assert torch.equal(writer_cache.to_dense(), dense)


def _rebuild_with_small_shards(directory: Path, model, sae, tokens) -> LatentCache:
    writer = LatentCacheWriter(directory, sae.cfg.d_sae, tokens.shape[1], chunk_entries=40)
    for batch in iter_latent_batches(model, sae, tokens, batch_size=4, progress=False):
        writer.add(
            SparseEntries.from_dense(batch.latents_BLF, batch.mask_BL, batch.seq_offset),
            batch.seq_offset + len(batch.latents_BLF),
        )
    mask = valid_token_mask(tokens, [model.tokenizer.bos_token_id])
    return writer.finalize(
        tokens,
        mask,
        {"n_seqs": tokens.shape[0], "ctx_len": tokens.shape[1], "latent_ids": None},
        shard_entries=60,
    )


def test_special_tokens_are_masked(tmp_path: Path, tiny_model, tokens) -> None:
    sae = make_tiny_sae()
    cache = build_latent_cache(
        tiny_model, sae, tokens, tmp_path / "c", batch_size=4, progress=False
    )
    dense = cache.to_dense()
    assert dense[:, 0].abs().sum() == 0
    assert dense[3, 12].abs().sum() == 0
    assert not cache.mask[3, 12] and cache.mask[3, 11]


def test_selected_latents(tmp_path: Path, tiny_model, tokens) -> None:
    sae = make_tiny_sae()
    ids = [5, 2, 30]
    cache = build_latent_cache(
        tiny_model, sae, tokens, tmp_path / "c", latent_ids=ids, progress=False
    )
    full = _dense(tiny_model, sae, tokens)
    assert torch.equal(cache.to_dense(), full[:, :, ids])
    assert torch.equal(cache.dense_latent(30), full[:, :, 30])
    with pytest.raises(CacheError, match="latent 3 was not collected"):
        cache.latent_entries(3)


def test_stats_match_dense(tmp_path: Path, tiny_model, tokens) -> None:
    sae = make_tiny_sae()
    cache = build_latent_cache(
        tiny_model, sae, tokens, tmp_path / "c", chunk_entries=30, progress=False
    )
    dense = _dense(tiny_model, sae, tokens)
    stats = cache.stats
    assert stats.n_tokens == int(cache.mask.sum()) == 10 * 24 - 11
    assert torch.equal(stats.count, (dense != 0).sum((0, 1)))
    assert torch.allclose(stats.total, dense.double().sum((0, 1)))
    assert torch.allclose(stats.max, dense.amax((0, 1)))
    assert torch.allclose(stats.frequency, (dense != 0).sum((0, 1)).double() / stats.n_tokens)


def test_interrupted_collection_resumes(tmp_path: Path, tiny_model, tokens, monkeypatch) -> None:
    sae = make_tiny_sae()
    real = collect_module.activations_at_hook
    forwards: list[int] = []

    def dying(model, batch, hook):  # type: ignore[no-untyped-def]
        if len(forwards) == 3:
            raise KeyboardInterrupt
        forwards.append(batch.shape[0])
        return real(model, batch, hook)

    monkeypatch.setattr(collect_module, "activations_at_hook", dying)
    with pytest.raises(KeyboardInterrupt):
        build_latent_cache(
            tiny_model, sae, tokens, tmp_path / "c", batch_size=2, chunk_entries=1, progress=False
        )
    assert not LatentCache.is_complete(tmp_path / "c")
    forwards.clear()
    monkeypatch.setattr(
        collect_module,
        "activations_at_hook",
        lambda m, b, h: forwards.append(b.shape[0]) or real(m, b, h),
    )
    cache = build_latent_cache(
        tiny_model, sae, tokens, tmp_path / "c", batch_size=2, chunk_entries=1, progress=False
    )
    assert sum(forwards) == tokens.shape[0] - 6  # three batches of two were on disk
    assert torch.equal(cache.to_dense(), _dense(tiny_model, sae, tokens))


def test_several_saes_at_one_hook_share_each_forward_pass(
    tmp_path: Path, tiny_model, tokens, monkeypatch
) -> None:
    saes = [make_tiny_sae(seed=s) for s in (0, 1, 2)]
    real = collect_module.activations_at_hook
    forwards: list[int] = []
    monkeypatch.setattr(
        collect_module, "activations_at_hook", lambda m, b, h: forwards.append(1) or real(m, b, h)
    )
    # the second SAE's cache is complete already; the others are collected together
    build_latent_cache(tiny_model, saes[1], tokens, tmp_path / "1", batch_size=4, progress=False)
    forwards.clear()
    targets = [CacheTarget(sae, tmp_path / str(i)) for i, sae in enumerate(saes)]
    caches = build_latent_caches(tiny_model, targets, tokens, batch_size=4, progress=False)
    assert len(forwards) == -(-tokens.shape[0] // 4)  # one forward per batch, for both SAEs
    for sae, cache in zip(saes, caches, strict=True):
        assert torch.equal(cache.to_dense(), _dense(tiny_model, sae, tokens))
    with pytest.raises(ValueError, match="one hook"):
        other = make_tiny_sae(hook_name="blocks.0.hook_resid_pre")
        build_latent_caches(tiny_model, [targets[0], CacheTarget(other, tmp_path / "x")], tokens)


def test_incomplete_cache_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(CacheError, match="not a complete latent cache"):
        LatentCache(tmp_path)
