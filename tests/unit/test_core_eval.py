import math
from pathlib import Path

import pytest
import torch

from sae_interp.data import load_corpus
from sae_interp.evals.core import CoreEvalConfig, run_eval
from sae_interp.evals.core.metrics import ReconstructionAccumulator, ce_loss_recovered
from sae_interp.saes import IdentitySAE, ReLUSAE, SAEConfig
from sae_interp.testing import TINY_MODEL_SPEC, make_tiny_sae, make_tiny_tokenizer


def test_ce_loss_recovered_by_hand() -> None:
    assert ce_loss_recovered(2.0, 2.0, 6.0) == 1.0
    assert ce_loss_recovered(2.0, 6.0, 6.0) == 0.0
    assert ce_loss_recovered(2.0, 3.0, 6.0) == 0.75
    assert math.isnan(ce_loss_recovered(2.0, 3.0, 2.0))


def test_reconstruction_accumulator_by_hand() -> None:
    acc = ReconstructionAccumulator(d_sae=3)
    x = torch.tensor([[1.0, 0.0], [3.0, 2.0]])
    x_hat = torch.tensor([[1.0, 1.0], [3.0, 2.0]])
    f = torch.tensor([[0.0, 2.0, 0.0], [1.0, -1.0, 0.0]])
    acc.update(x[:1], x_hat[:1], f[:1])
    acc.update(x[1:], x_hat[1:], f[1:])
    # SSE = 1; SST = sum over dims of sum (x - mean)^2 = (1+1)*... mean=[2,1]: 1+1+1+1 = 4
    assert acc.explained_variance() == pytest.approx(0.75)
    assert acc.mse() == pytest.approx(1 / 4)
    assert acc.l0_sum / acc.n == pytest.approx(1.5) and acc.l1_sum / acc.n == pytest.approx(2.0)
    assert acc.count.tolist() == [1, 2, 0]
    assert acc.frequency().tolist() == [0.5, 1.0, 0.0]
    assert acc.cos_sum / acc.n == pytest.approx((1 / math.sqrt(2) + 1) / 2)


def _config(tmp_path: Path, corpus: Path, spec: str, **kw) -> CoreEvalConfig:
    values = {
        "model": TINY_MODEL_SPEC,
        "saes": [spec],
        "corpus": str(corpus),
        "n_tokens": 512,
        "n_ce_tokens": 128,
        "ctx_len": 32,
        "device": "cpu",
        "output_dir": tmp_path / "out",
    }
    return CoreEvalConfig(**(values | kw))


def test_identity_sae_is_perfect(tmp_path: Path, corpus_file: Path) -> None:
    (out,) = run_eval(_config(tmp_path, corpus_file, "identity:blocks.1.hook_resid_post"))
    m = out.eval_result_metrics
    assert m.reconstruction.explained_variance == pytest.approx(1.0, abs=1e-6)
    assert m.reconstruction.mse == pytest.approx(0.0, abs=1e-9)
    assert m.model_behaviour is not None
    assert m.model_behaviour.ce_loss_with_sae == pytest.approx(
        m.model_behaviour.ce_loss_clean, abs=1e-5
    )
    assert m.model_behaviour.ce_loss_recovered == pytest.approx(1.0, abs=1e-4)
    assert m.model_behaviour.kl_div_with_sae == pytest.approx(0.0, abs=1e-5)
    assert m.sparsity.l0 == pytest.approx(16.0)
    tokens = load_corpus(str(corpus_file), make_tiny_tokenizer(), 512, 32)
    assert m.n_tokens == int((tokens != 1).sum()) < 512  # every BOS (row starts, separators) masked
    assert len(out.eval_result_details) == 16


def test_zero_sae_recovers_nothing(tmp_path: Path, corpus_file: Path) -> None:
    cfg = SAEConfig(architecture="relu", d_in=16, d_sae=8, hook_name="blocks.0.hook_resid_post")
    zero = ReLUSAE(cfg)  # all weights zero: reconstruction is exactly the zero vector
    (out,) = run_eval(_config(tmp_path, corpus_file, "zero"), saes={"zero": zero})
    m = out.eval_result_metrics
    assert m.model_behaviour is not None
    assert m.model_behaviour.ce_loss_with_sae == pytest.approx(
        m.model_behaviour.ce_loss_zero_ablation, abs=1e-5
    )
    assert m.model_behaviour.ce_loss_recovered == pytest.approx(0.0, abs=1e-4)
    assert m.sparsity.dead_fraction == 1.0 and m.sparsity.l0 == 0.0
    assert m.reconstruction.explained_variance < 0


def test_topk_l0_and_passed_objects(tmp_path: Path, corpus_file: Path, tiny_model) -> None:
    sae = make_tiny_sae(k=3, d_sae=64)
    (out,) = run_eval(
        _config(tmp_path, corpus_file, "mine", save_latent_stats=False),
        model=tiny_model,
        saes={"mine": sae},
    )
    m = out.eval_result_metrics
    assert m.sparsity.l0 <= 3.0 + 1e-9 and m.sparsity.l0 > 2.0
    assert 0 < m.sparsity.dead_fraction < 1
    assert out.eval_result_details == []
    assert out.provenance.sae_cfg["k"] == 3
    # intervals from resampling sequences: the point value is the pooled metric itself
    ev, l0, ce = (m.intervals[k] for k in ("explained_variance", "l0", "ce_loss_recovered"))
    assert ev.value == pytest.approx(m.reconstruction.explained_variance, rel=1e-9)
    assert l0.value == pytest.approx(m.sparsity.l0, rel=1e-9)
    assert ce.value == pytest.approx(m.model_behaviour.ce_loss_recovered, rel=1e-9)
    for e in (ev, l0, ce):
        assert e.lo <= e.value <= e.hi and e.n > 1
    assert ev.hi - ev.lo > 0  # sequences differ


def test_ce_can_be_skipped(tmp_path: Path, corpus_file: Path) -> None:
    sae = IdentitySAE.for_hook(16, "blocks.0.hook_resid_post")
    (out,) = run_eval(_config(tmp_path, corpus_file, "id", n_ce_tokens=0), saes={"id": sae})
    assert out.eval_result_metrics.model_behaviour is None


def test_stored_result_is_reused_only_for_the_same_sae_and_settings(
    tmp_path: Path, corpus_file: Path, tiny_model, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = _config(tmp_path, corpus_file, "mine", n_ce_tokens=0, save_latent_stats=False)
    (first,) = run_eval(cfg, model=tiny_model, saes={"mine": make_tiny_sae(k=3, seed=0)})
    assert first.provenance.sae_fingerprint is not None
    (again,) = run_eval(cfg, model=tiny_model, saes={"mine": make_tiny_sae(k=3, seed=0)})
    assert again.eval_id == first.eval_id  # same weights, same settings: reused
    with caplog.at_level("WARNING"):
        (retrained,) = run_eval(cfg, model=tiny_model, saes={"mine": make_tiny_sae(k=3, seed=1)})
    assert retrained.eval_id != first.eval_id and "weights or config changed" in caplog.text
    caplog.clear()
    more = cfg.model_copy(update={"n_tokens": 256})
    with caplog.at_level("WARNING"):
        (rerun,) = run_eval(more, model=tiny_model, saes={"mine": make_tiny_sae(k=3, seed=1)})
    assert rerun.eval_id != retrained.eval_id and "settings changed: n_tokens" in caplog.text
    assert rerun.eval_result_metrics.n_tokens < retrained.eval_result_metrics.n_tokens


def test_saes_at_one_hook_share_the_zero_ablation(
    tmp_path: Path, corpus_file: Path, tiny_model
) -> None:
    """Two SAEs at a hook in one run: the zero-ablated losses are computed once (one model
    pass per CE batch fewer for the second SAE), and each result equals its run alone."""
    saes = {"a": make_tiny_sae(k=3, d_sae=64, seed=1), "b": make_tiny_sae(k=5, d_sae=32, seed=2)}
    forwards: list[int] = []
    handle = tiny_model.register_forward_pre_hook(lambda module, args: forwards.append(1))
    try:
        alone = {}
        for name, sae in saes.items():
            (alone[name],) = run_eval(
                _config(tmp_path / name, corpus_file, name, batch_size=2),
                model=tiny_model,
                saes={name: sae},
            )
        n_alone = len(forwards)
        together = run_eval(
            _config(tmp_path / "both", corpus_file, "a", saes=["a", "b"], batch_size=2),
            model=tiny_model,
            saes=saes,
        )
        n_together = len(forwards) - n_alone
    finally:
        handle.remove()
    n_ce_batches = 128 // 32 // 2
    assert n_together == n_alone - n_ce_batches
    for out in together:
        mine = alone[out.provenance.sae_spec].eval_result_metrics
        assert out.eval_result_metrics.model_behaviour == mine.model_behaviour
        assert out.eval_result_metrics.intervals == mine.intervals
