"""Sparse probing: latent ranking, probes, pooled metrics and pooling, on hand-made cases."""

import numpy as np
import pytest
import torch

from sae_interp.probing.metrics import (
    best_by_validation,
    bootstrap_mean,
    count_matching,
    paired_difference,
    seed_spread,
)
from sae_interp.probing.pooled import pool, pooled_activations
from sae_interp.probing.probes import effective_ks, fit_baseline, fit_logreg, rank_latents


def test_latents_are_ranked_by_class_mean_difference() -> None:
    # latent 2 separates the classes most (diff 3), then latent 0 (-2), latent 1 not at all
    x = np.array([[0.0, 1.0, 4.0], [0.0, 1.0, 4.0], [2.0, 1.0, 1.0], [2.0, 1.0, 1.0]])
    y = np.array([1, 1, 0, 0])
    assert rank_latents(x, y, normalize=False).tolist() == [2, 0, 1]
    # normalised by each latent's mean non-zero |activation|: latent 0 -> diff -1,
    # latent 2 -> 3 / 2.5 = 1.2; latent 2 still first
    assert rank_latents(x, y, normalize=True).tolist()[:2] == [2, 0]


def test_effective_ks_clip_to_the_width_and_drop_duplicates() -> None:
    assert effective_ks([1, 16, 128, 640, 4096], 640) == [1, 16, 128, 640]


def test_probe_on_a_separable_problem_has_auc_one_and_on_noise_about_half() -> None:
    rng = np.random.default_rng(0)
    y = np.tile([0, 1], 150)
    x = rng.normal(size=(300, 5)).astype(np.float32)
    x[:, 0] += 6 * y
    sep = fit_logreg(x[:200], y[:200], x[200:], y[200:], penalty="l2", seed=0)
    assert sep.test_auc == 1.0 and sep.test_acc == 1.0 and sep.test_f1 == 1.0
    noise = rng.normal(size=(2000, 5)).astype(np.float32)
    yn = rng.integers(0, 2, 2000)
    chance = fit_logreg(noise[:1000], yn[:1000], noise[1000:], yn[1000:], penalty="l1", seed=0)
    assert abs(chance.test_auc - 0.5) < 0.06
    pca = fit_baseline("pca", x[:200], y[:200], x[200:], y[200:], seed=0)
    assert pca.test_auc > 0.99  # PCA + logistic regression, through the baseline registry


def test_bootstrap_mean_by_hand() -> None:
    one = bootstrap_mean([0.7])
    assert (one.value, one.lo, one.hi, one.n) == (0.7, None, None, 1)  # no interval from one
    assert bootstrap_mean([]).value is None
    same = bootstrap_mean([0.5, 0.5, 0.5])
    assert same.lo == same.hi == 0.5
    spread = bootstrap_mean([0.0, 1.0] * 20, seed=1)
    assert spread.value == 0.5 and spread.lo < 0.5 < spread.hi  # type: ignore[operator]
    assert spread.hi - spread.lo < 0.4  # type: ignore[operator]


def test_paired_difference_matching_spread_and_best_baseline_by_hand() -> None:
    sae = {"a": 0.90, "b": 0.80, "c": 0.60}
    base = {"a": 0.91, "b": 0.95, "c": 0.60, "d": 0.99}
    diff = paired_difference(sae, base)
    assert diff.n == 3 and diff.value == pytest.approx((-0.01 - 0.15 + 0.0) / 3)
    assert count_matching(sae, base, tolerance=0.01) == 2  # a (-0.01) and c (0)
    assert count_matching(sae, base, tolerance=0.2) == 3
    assert seed_spread({1: {"a": 0.8, "b": 0.6}}) is None
    # seed means 0.7 and 0.8 -> std (ddof 1) = 0.0707
    assert seed_spread({1: {"a": 0.8, "b": 0.6}, 2: {"a": 0.9, "b": 0.7}}) == pytest.approx(
        0.0707107, abs=1e-6
    )
    assert best_by_validation({"logreg": (0.9, 0.8), "knn": (0.95, 0.7)}) == ("knn", 0.7)


def test_pool_last_and_mean_by_hand() -> None:
    acts = torch.arange(12, dtype=torch.float32).reshape(2, 3, 2)  # [[0,1],[2,3],[4,5]], ...
    lengths, skip = torch.tensor([2, 3]), torch.tensor([1, 0])
    assert pool(acts, lengths, "last", skip).tolist() == [[2.0, 3.0], [10.0, 11.0]]
    # row 0: position 1 only (BOS skipped); row 1: mean of positions 0..2
    assert pool(acts, lengths, "mean", skip).tolist() == [[2.0, 3.0], [8.0, 9.0]]
    # a prompt that is only its BOS keeps it
    assert pool(acts, torch.tensor([1, 1]), "mean", torch.tensor([1, 1])).tolist() == [
        [0.0, 1.0],
        [6.0, 7.0],
    ]


def test_batched_pooling_equals_one_prompt_at_a_time(tiny_model) -> None:  # type: ignore[no-untyped-def]
    prompts = ["the cat sat", "a dog ran on the mat quickly", "red", "the bird flew over a tree"]
    hook = "blocks.1.hook_resid_post"
    batched = pooled_activations(tiny_model, hook, prompts, batch_size=3)
    for i, prompt in enumerate(prompts):
        alone = pooled_activations(tiny_model, hook, [prompt], batch_size=1)
        assert torch.allclose(batched[i], alone[0], atol=1e-5)
    tokens = torch.tensor([tiny_model.tokenizer(prompts[1])["input_ids"]])
    _, cache = tiny_model.run_with_cache(tokens, names_filter=[hook])
    assert torch.allclose(batched[1], cache[hook][0, -1], atol=1e-5)
    # truncation keeps the BOS and the last tokens: <bos> a dog ... mat quickly -> <bos> mat quickly
    cut = pooled_activations(tiny_model, hook, [prompts[1]], max_seq_len=3, pooling="mean")
    short = pooled_activations(tiny_model, hook, ["mat quickly"], pooling="mean")
    assert torch.allclose(cut, short, atol=1e-5)


def test_each_probe_fits_with_single_threaded_blas(monkeypatch: pytest.MonkeyPatch) -> None:
    """A probe's small matrices run fastest on one BLAS thread; ``_fit`` limits every BLAS
    and OpenMP pool it finds to 1 for the probe and restores them afterwards."""
    from threadpoolctl import threadpool_info

    from sae_interp.probing import run as probing_run
    from sae_interp.probing.splits import Split

    seen: list[list[int]] = []

    def spy(*args: object, **kwargs: object) -> str:
        seen.append([pool["num_threads"] for pool in threadpool_info()])
        return "scores"

    monkeypatch.setattr(probing_run, "fit_baseline", spy)
    y = np.array([0, 1, 0, 1])
    split = Split("normal", None, 0, np.arange(4), np.arange(4), y, y)
    x = np.zeros((4, 3), dtype=np.float32)
    job = probing_run.ProbeJob("logreg", "toy", split, x, x)
    result, seconds = probing_run._fit(job, probing_run.ProbingOptions())
    assert result == "scores" and seconds >= 0.0
    assert seen and seen[0] and set(seen[0]) == {1}


@pytest.mark.parametrize("method", ["knn", "xgboost", "mlp"])
def test_sae_probes_baselines_separate_a_toy_task_and_not_noise(method: str) -> None:
    """sae-probes' own knn, xgboost and mlp baselines, through the baseline registry: a
    class shifted along one axis is separated; labels independent of the data are not."""
    rng = np.random.default_rng(1)
    y = np.tile([0, 1], 100)
    x = rng.normal(size=(200, 8)).astype(np.float32)
    x[:, 3] += 4 * y
    separable = fit_baseline(method, x[:140], y[:140], x[140:], y[140:], seed=0)
    assert separable.test_auc > 0.95 and separable.test_acc > 0.85
    noise_y = rng.integers(0, 2, 200)
    noise = fit_baseline(method, x[:140], noise_y[:140], x[140:], noise_y[140:], seed=0)
    assert noise.test_auc < 0.75
