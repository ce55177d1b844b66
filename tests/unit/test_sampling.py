from pathlib import Path

import numpy as np
import pytest
import torch

from sae_interp.activations import (
    LatentCache,
    LatentCacheWriter,
    RecordSampler,
    RecordStatus,
    SamplingConfig,
    SparseEntries,
    WindowGrid,
    sample_records,
)
from sae_interp.activations.sampling import quantile_bins

N_SEQS, CTX, F = 60, 65, 4  # windows of 16 after BOS -> 4 per sequence, 240 in all


def cache_from_dense(directory: Path, dense: torch.Tensor) -> LatentCache:
    n, length, f = dense.shape
    tokens = torch.randint(4, 40, (n, length), generator=torch.Generator().manual_seed(0))
    tokens[:, 0] = 1
    mask = tokens != 1
    writer = LatentCacheWriter(directory, f, length, chunk_entries=500)
    writer.add(SparseEntries.from_dense(dense, mask, 0), seq_end=n)
    meta = {"n_seqs": n, "ctx_len": length, "latent_ids": None, "bos_prepended": True}
    return writer.finalize(tokens, mask, meta)


@pytest.fixture
def cache(tmp_path: Path) -> LatentCache:
    gen = torch.Generator().manual_seed(3)
    dense = torch.zeros(N_SEQS, CTX, F)
    # latent 0: fires once in 200 of the 240 windows with distinct strengths
    windows = torch.randperm(240, generator=gen)[:200]
    for rank, w in enumerate(windows.tolist()):
        seq, j = divmod(w, 4)
        pos = 1 + 16 * j + int(torch.randint(0, 16, (1,), generator=gen))
        dense[seq, pos, 0] = 1.0 + rank
    dense[5, 3, 1] = 2.0  # latent 1: one window only -> too rare
    dense[:, 1:, 3] = torch.rand(N_SEQS, CTX - 1, generator=gen) + 0.1  # latent 3: everywhere
    return cache_from_dense(tmp_path / "c", dense)


CFG = SamplingConfig(window_len=16, n_train=40, n_test=50, n_negatives=20, min_activating=5)


def test_grid_layout() -> None:
    grid = WindowGrid(n_seqs=2, ctx_len=65, window_len=16, first=1)
    assert grid.per_seq == 4 and grid.n_windows == 8
    assert grid.span(5) == (1, 17, 33)


def test_quantile_bins_equal_count() -> None:
    bins = quantile_bins(200, 10)
    assert np.bincount(bins).tolist() == [20] * 10
    assert bins[0] == 0 and bins[-1] == 9 and np.all(np.diff(bins) >= 0)


def test_record_invariants(cache: LatentCache) -> None:
    record = RecordSampler(cache, CFG, seed=1).record(0)
    assert record.status == RecordStatus.ok and record.n_activating_windows == 200
    assert len(record.train) == 40 and len(record.test) == 50 and len(record.negatives) == 20
    spans = lambda ws: {(w.seq, w.start) for w in ws}  # noqa: E731
    assert not spans(record.train) & spans(record.test)
    assert not (spans(record.train) | spans(record.test)) & spans(record.negatives)
    dense = cache.dense_latent(0)
    for window in record.train + record.test + record.negatives:
        assert 1 <= window.start < window.end <= CTX and window.end - window.start == 16
        assert window.tokens == cache.tokens[window.seq, window.start : window.end].tolist()
        assert window.activations == dense[window.seq, window.start : window.end].tolist()
    assert all(w.max_activation > 0 for w in record.train + record.test)
    assert all(w.max_activation == 0 for w in record.negatives)


def test_quantile_sampling_is_balanced(cache: LatentCache) -> None:
    record = RecordSampler(cache, CFG, seed=1).record(0)
    assert np.bincount([w.quantile_bin for w in record.train], minlength=10).tolist() == [4] * 10
    assert np.bincount([w.quantile_bin for w in record.test], minlength=10).tolist() == [5] * 10
    # bins follow activation order: every bin-0 window beats every bin-9 window
    top = min(w.max_activation for w in record.test if w.quantile_bin == 0)
    bottom = max(w.max_activation for w in record.test if w.quantile_bin == 9)
    assert top > bottom


def test_determinism_and_seed_dependence(cache: LatentCache) -> None:
    a = RecordSampler(cache, CFG, seed=1).record(0)
    b = RecordSampler(cache, CFG, seed=1).record(0)
    c = RecordSampler(cache, CFG, seed=2).record(0)
    assert a == b
    assert [w.seq for w in a.test] != [w.seq for w in c.test]


def test_top_and_importance_strategies(cache: LatentCache) -> None:
    top = RecordSampler(
        cache, CFG.model_copy(update={"train_strategy": "top", "n_train": 10}), seed=0
    ).record(0)
    assert sorted(w.max_activation for w in top.train) == [float(v) for v in range(191, 201)]
    weighted = SamplingConfig(
        window_len=16,
        n_train=30,
        train_strategy="importance_weighted",
        importance_skip_top=10,
        n_test=10,
        min_activating=5,
    )
    record = RecordSampler(cache, weighted, seed=0).record(0)
    assert len(record.train) == 30
    assert max(w.max_activation for w in record.train) <= 190  # top 10 are excluded


def test_small_pool_is_split_proportionally(cache: LatentCache) -> None:
    cfg = SamplingConfig(window_len=16, n_train=300, n_test=100, min_activating=5)
    record = RecordSampler(cache, cfg, seed=0).record(0)
    assert len(record.train) == 150 and len(record.test) == 50


def test_rare_dead_and_dense_latents(cache: LatentCache) -> None:
    records = sample_records(cache, [1, 2, 3], CFG, seed=0, progress=False)
    assert [r.status for r in records] == [
        RecordStatus.too_rare,
        RecordStatus.dead,
        RecordStatus.ok,
    ]
    assert records[0].n_activating_windows == 1 and not records[0].train
    assert records[2].negatives == []  # no window is free of latent 3


def test_relative_threshold(cache: LatentCache) -> None:
    cfg = CFG.model_copy(update={"relative_threshold": 0.5})
    record = RecordSampler(cache, cfg, seed=0).record(0)
    assert record.n_activating_windows == 100  # maxima 101..200 exceed 0.5 * 200 = 100


def test_unknown_strategy_is_rejected(cache: LatentCache) -> None:
    from sae_interp.base.errors import SpecError

    with pytest.raises(SpecError, match="unknown activating sampler"):
        RecordSampler(cache, CFG.model_copy(update={"train_strategy": "best"}))


def test_random_strategy_draws_uniformly_without_the_top_bias(cache: LatentCache) -> None:
    cfg = CFG.model_copy(update={"train_strategy": "random", "n_train": 20, "n_test": 10})
    means = []
    for seed in range(40):
        record = RecordSampler(cache, SamplingConfig.model_validate(cfg.model_dump()), seed).record(
            0
        )
        strengths = [w.max_activation for w in record.train]
        assert len(strengths) == len(set(strengths)) == 20  # 20 distinct windows
        means.append(np.mean(strengths))
    # latent 0's window maxima are 1..200: a uniform draw of 20 has mean 100.5 and SD
    # sqrt((200^2 - 1) / 12 * (200 - 20) / (199 * 20)) = 12.3; over 40 draws the SE is 1.9
    assert abs(np.mean(means) - 100.5) < 4 * 12.3 / np.sqrt(40)
    top = RecordSampler(cache, CFG.model_copy(update={"train_strategy": "top"}), 0).record(0)
    assert np.mean([w.max_activation for w in top.train]) > 170  # the control: top is biased


def test_random_sampler_gives_each_window_equal_chances() -> None:
    from sae_interp.activations.sampling import ACTIVATING_SAMPLERS

    draw = ACTIVATING_SAMPLERS.get("random")
    n, k, trials = 10, 3, 6000
    rng = np.random.default_rng(0)
    counts = np.zeros(n)
    for _ in range(trials):
        chosen = draw(rng, np.zeros(n, dtype=np.int64), np.arange(n, 0, -1.0), k, CFG)
        assert len(set(chosen.tolist())) == k and list(chosen) == sorted(chosen)
        counts[chosen] += 1
    expected = trials * k / n  # 1800 each
    assert np.all(np.abs(counts - expected) < 4 * np.sqrt(expected * (1 - k / n)))


def test_importance_weighted_draws_follow_activation_squared() -> None:
    """One draw at a time (k = 1), so each window's chance is exactly its weight: activation²
    over the sum below the skipped top windows."""
    from sae_interp.activations.sampling import ACTIVATING_SAMPLERS

    draw = ACTIVATING_SAMPLERS.get("importance_weighted")
    maxima = np.array([9.0, 8.0, 4.0, 3.0, 2.0, 1.0])  # best first, as the sampler gets them
    cfg = CFG.model_copy(update={"importance_skip_top": 2})
    rng = np.random.default_rng(0)
    trials = 20_000
    counts = np.zeros(len(maxima))
    for _ in range(trials):
        counts[draw(rng, np.zeros(len(maxima), dtype=np.int64), maxima, 1, cfg)] += 1
    assert counts[:2].sum() == 0  # the top windows are skipped
    weights = maxima[2:] ** 2
    p = weights / weights.sum()  # 16/30, 9/30, 4/30, 1/30
    se = np.sqrt(p * (1 - p) / trials)
    assert np.all(np.abs(counts[2:] / trials - p) < 4 * se)
    uniform = np.full(4, 0.25)
    assert np.abs(counts[2:] / trials - uniform).max() > 0.2  # far from a uniform draw
