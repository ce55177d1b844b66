"""Sparse probing on the embedded default: two small sae-probes datasets, the identity SAE
(its probe on all latents must equal the logistic-regression baseline) and the shipped SAE
(encoded from the same cached activations, no second model pass)."""

from pathlib import Path

import pytest

from sae_interp.evals.sparse_probing import SparseProbingEvalConfig, run_eval

pytestmark = pytest.mark.integration

HOOK = "blocks.6.hook_resid_post"
DATASETS = ["117_us_state_FL", "126_art_type_book"]


def test_sparse_probing_on_the_embedded_default(
    gemma, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SAE_INTERP_CACHE", str(tmp_path / "cache"))  # fresh activation cache
    cfg = SparseProbingEvalConfig(
        saes=[f"identity:{HOOK}", "embedded:topk-4k-k64"],
        datasets=DATASETS,
        ks=[1, 16, 640],
        max_examples=300,  # 200 training rows: the 640-wide probes stay quick
        workers=2,
        device="cpu",
        output_dir=tmp_path / "out",
    )
    identity, topk = run_eval(cfg, model=gemma)

    records = {(r.dataset, r.probe, r.k): r for r in identity.eval_result_details}
    for name in DATASETS:
        base = records[(name, "logreg", None)]
        assert base.test_auc > 0.6, name  # 200 training rows: 0.68 measured on 117_us_state_FL
        assert records[(name, "sae", 640)].test_auc == pytest.approx(base.test_auc, abs=5e-3)
        assert records[(name, "sae", 1)].test_auc < base.test_auc

    m = topk.eval_result_metrics
    assert m.n_datasets == 2 and m.n_skipped == 0
    assert m.timing.n_activation_files_computed == 0  # reused from the identity SAE's run
    assert m.timing.n_activation_files_cached == 2 and m.timing.n_baselines_cached == 2
    k16 = m.sae["k16"].test_auc.value
    assert k16 is not None and 0.6 < k16 <= 1.0
    assert m.sae["k1"].test_auc.value is not None
    assert m.sae["k640"].test_auc.value >= m.sae["k1"].test_auc.value - 0.05  # type: ignore[operator]
