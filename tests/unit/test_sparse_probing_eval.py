"""The sparse probing eval end to end on the tiny model and registered toy datasets."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from helpers import last_word_task

from sae_interp.cli import main as sae_interp_main
from sae_interp.evals.sparse_probing import SparseProbingEvalConfig, run_eval
from sae_interp.evals.sparse_probing.__main__ import DEFINITION
from sae_interp.framework.cli import eval_main
from sae_interp.probing.datasets import ProbingDataset, register_dataset, unregister_dataset
from sae_interp.testing import TINY_MODEL_SPEC, make_tiny_sae

HOOK = "blocks.1.hook_resid_post"


@pytest.fixture
def toy_datasets() -> Iterator[None]:
    register_dataset(last_word_task())
    register_dataset(ProbingDataset("toy_one_class", ["the cat"] * 200, np.ones(200), "toy"))
    yield
    unregister_dataset("toy_last_word")
    unregister_dataset("toy_one_class")


def _config(tmp_path: Path, saes: list[str], **kw) -> SparseProbingEvalConfig:  # type: ignore[no-untyped-def]
    values = {
        "model": TINY_MODEL_SPEC,
        "saes": saes,
        "datasets": ["toy_last_word"],
        "ks": [1, 4, 16],
        "ctx_len": 32,
        "max_seq_len": 64,
        "device": "cpu",
        "output_dir": tmp_path / "out",
    }
    return SparseProbingEvalConfig(**(values | kw))


def test_identity_probe_on_all_latents_equals_the_logreg_baseline(
    tmp_path: Path, toy_datasets: None
) -> None:
    (out,) = run_eval(_config(tmp_path, [f"identity:{HOOK}"]))
    records = {(r.probe, r.k): r for r in out.eval_result_details}
    full, base = records[("sae", 16)], records[("logreg", None)]  # d_model = 16: k 16 = all
    assert base.test_auc > 0.9  # the task is learnable from the last-token activation
    assert full.test_auc == pytest.approx(base.test_auc, abs=2e-3)
    assert full.val_auc == pytest.approx(base.val_auc, abs=2e-3)
    assert full.latents is not None and sorted(full.latents) == list(range(16))
    m = out.eval_result_metrics
    assert m.n_datasets == 1 and set(m.sae) == {"k1", "k4", "k16"}
    assert m.sae["k16"].n_match == 1
    assert m.baselines["best_baseline"].test_auc.value == base.test_auc


def test_torch_solver_runs_the_eval_and_keeps_its_own_baselines(
    tmp_path: Path, toy_datasets: None
) -> None:
    """--solver torch fits the SAE probes and the logreg baseline with the batched Newton
    solver: the pipeline check (k = all identity latents equals the baseline) holds, the
    numbers agree with scikit-learn's run, and the stored sklearn baseline is not reused."""
    (ref,) = run_eval(_config(tmp_path, [f"identity:{HOOK}"]))
    (out,) = run_eval(_config(tmp_path, [f"identity:{HOOK}"], solver="torch", force=True))
    assert out.eval_result_metrics.timing.n_baselines_cached == 0
    records = {(r.probe, r.k): r for r in out.eval_result_details}
    full, base = records[("sae", 16)], records[("logreg", None)]
    assert full.test_auc == pytest.approx(base.test_auc, abs=1e-6)
    ref_base = next(r for r in ref.eval_result_details if r.probe == "logreg")
    assert base.test_auc == pytest.approx(ref_base.test_auc, abs=0.02)


def test_activations_and_baselines_are_computed_once_per_hook(
    tmp_path: Path, toy_datasets: None
) -> None:
    saes = {"a": make_tiny_sae(hook_name=HOOK, seed=0), "b": make_tiny_sae(hook_name=HOOK, seed=1)}
    first, second = run_eval(_config(tmp_path, ["a", "b"]), saes=saes)
    t1, t2 = first.eval_result_metrics.timing, second.eval_result_metrics.timing
    assert (t1.n_activation_files_computed, t1.n_activation_files_cached) == (1, 0)
    assert (t2.n_activation_files_computed, t2.n_activation_files_cached) == (0, 1)
    assert (t1.n_baselines_cached, t2.n_baselines_cached) == (0, 1)
    # fit seconds per probe kind: the stored baseline costs the second SAE nothing
    assert set(t1.fit_s_by_probe) == {"sae", "logreg"} and set(t2.fit_s_by_probe) == {"sae"}
    assert t1.fit_s_by_probe["logreg"] > 0.0
    base = [r for out in (first, second) for r in out.eval_result_details if r.probe == "logreg"]
    assert base[0].test_auc == base[1].test_auc
    sae_a = [r.test_auc for r in first.eval_result_details if r.probe == "sae"]
    sae_b = [r.test_auc for r in second.eval_result_details if r.probe == "sae"]
    assert sae_a != sae_b  # different SAEs, different latents


def test_skips_are_recorded_and_seeds_give_a_spread(tmp_path: Path, toy_datasets: None) -> None:
    cfg = _config(
        tmp_path,
        [f"identity:{HOOK}"],
        datasets=["toy_last_word", "toy_one_class"],
        split_seeds=[1, 2, 3],
        ks=[2],
    )
    (out,) = run_eval(cfg)
    m = out.eval_result_metrics
    assert m.n_datasets == 1 and m.n_datasets_requested == 2 and m.n_skipped == 1
    skipped = (out.eval_result_unstructured or {})["skipped"]
    assert skipped == [
        {
            "dataset": "toy_one_class",
            "setting": "normal",
            "variant": None,
            "seed": None,
            "probe": None,
            "reason": "only one class",
        }
    ]
    assert sorted({r.seed for r in out.eval_result_details}) == [1, 2, 3]
    assert m.sae["k2"].seed_spread_auc is not None and m.sae["k2"].seed_spread_auc > 0


def test_scarcity_reports_each_training_size(tmp_path: Path, toy_datasets: None) -> None:
    cfg = _config(
        tmp_path, [f"identity:{HOOK}"], setting="scarcity", variants=[4, 40, 350], ks=[16]
    )
    (out,) = run_eval(cfg)
    variants = out.eval_result_metrics.variants
    assert [v.variant for v in variants] == [4, 40]
    assert all(v.sae_auc["k16"] is not None for v in variants)
    n_train = {r.variant: r.n_train for r in out.eval_result_details}
    assert n_train == {4.0: 4, 40.0: 40}
    assert "350 training rows leave < 100 test rows" in str(out.eval_result_unstructured)


def main(argv: list[str]) -> int:
    return eval_main(DEFINITION, argv)


@pytest.fixture
def no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any model load fails the test: listing datasets must not run the eval."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was loaded")

    monkeypatch.setattr("sae_interp.models.lazy.load_model", refuse)
    monkeypatch.setattr("sae_interp.models.lazy.model_shell", refuse)  # nor its config


def test_cli_lists_datasets_and_names_the_closest_to_a_typo(
    capsys: pytest.CaptureFixture[str], toy_datasets: None, no_model: None
) -> None:
    assert main(["--list-datasets", "--categories", "toy"]) == 0
    listed = capsys.readouterr().out
    assert "toy_last_word" in listed and "toy_one_class" in listed and "2 datasets" in listed
    assert main(["--list-datasets", "--datasets", "toy_last_wrd"]) == 2
    assert "closest: toy_last_word" in capsys.readouterr().err


def test_list_datasets_from_the_unified_cli_and_a_config_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], toy_datasets: None, no_model: None
) -> None:
    assert sae_interp_main(["sparse_probing", "--list-datasets", "--categories", "toy"]) == 0
    assert "2 datasets" in capsys.readouterr().out
    config = tmp_path / "cfg.json"
    config.write_text('{"list_datasets": true, "categories": ["toy"]}')
    assert sae_interp_main(["sparse_probing", "--config", str(config)]) == 0
    listed = capsys.readouterr().out
    assert "toy_last_word" in listed and "2 datasets" in listed


def test_bad_baseline_name_is_refused_before_anything_loads() -> None:
    with pytest.raises(ValueError, match="unknown probing baseline 'svm'"):
        SparseProbingEvalConfig(baselines=["svm"], datasets=["87_glue_cola"])


def test_ood_setting_tests_on_the_ood_prompts_and_skips_datasets_without(
    tmp_path: Path, toy_datasets: None
) -> None:
    big, ood = last_word_task(1100, seed=1), last_word_task(120, seed=2)
    big.name, big.ood_prompts, big.ood_labels = "toy_with_ood", ood.prompts, ood.labels
    register_dataset(big)
    try:
        cfg = _config(
            tmp_path,
            [f"identity:{HOOK}"],
            setting="ood",
            datasets=["toy_with_ood", "toy_last_word"],
            ks=[16],
        )
        (out,) = run_eval(cfg)
    finally:
        unregister_dataset("toy_with_ood")
    records = out.eval_result_details
    assert {r.dataset for r in records} == {"toy_with_ood"}
    assert all(r.n_train == 1024 and r.n_test == 120 for r in records)
    assert out.eval_result_metrics.baselines["logreg"].test_auc.value > 0.8  # type: ignore[operator]
    (skip,) = (out.eval_result_unstructured or {})["skipped"]
    assert skip["dataset"] == "toy_last_word" and "no OOD test set" in skip["reason"]


def test_compare_pairs_two_saes_dataset_by_dataset(tmp_path: Path, toy_datasets: None) -> None:
    """Sparse probing's units are datasets: two SAEs probed on the same splits are compared
    dataset by dataset; other splits cannot be paired."""
    from sae_interp.compare import compare

    second = last_word_task(300, seed=5)
    second.name = "toy_last_word_2"
    register_dataset(second)
    try:
        saes = {
            "a": make_tiny_sae(hook_name=HOOK, seed=0),
            "b": make_tiny_sae(hook_name=HOOK, seed=1),
        }
        datasets = ["toy_last_word", "toy_last_word_2"]
        a, b = run_eval(_config(tmp_path, ["a", "b"], datasets=datasets), saes=saes)
        (c,) = run_eval(
            _config(tmp_path / "other", ["a"], datasets=datasets, split_seeds=[7]), saes=saes
        )
    finally:
        unregister_dataset("toy_last_word_2")
    result = compare(a, b, n_permutations=100)
    assert result.paired and result.unit == "dataset" and result.n_latents_a == 2
    rows = {m.metric: m for m in result.metrics}
    assert set(rows) == {"auc_k1", "auc_k4", "auc_k16", "best_baseline_auc"}
    # the per-dataset means are those of the records: k = 4 of SAE a minus SAE b
    by = lambda out: {r.dataset: r.test_auc for r in out.eval_result_details if r.k == 4}  # noqa: E731
    expected = sum(by(a)[d] - by(b)[d] for d in datasets) / 2
    assert rows["auc_k4"].difference.value == pytest.approx(expected)
    assert rows["best_baseline_auc"].difference.value == 0.0  # the same hook: one baseline
    assert not compare(a, c, n_permutations=100).paired  # other seeds: independent
    with pytest.raises(Exception, match=r"dataset by dataset: their splits differ \(split_seeds\)"):
        compare(a, c, pairing="paired")


def test_dataset_units_average_seeds_and_pick_the_baseline_by_validation() -> None:
    from sae_interp.probing.records import ProbeRecord
    from sae_interp.probing.units import dataset_units

    def rec(probe: str, seed: int, auc: float, val: float = 0.5, k: int | None = None):  # type: ignore[no-untyped-def]
        return ProbeRecord(
            dataset="d", setting="normal", seed=seed, probe=probe, k=k, test_auc=auc,
            test_acc=0.5, test_f1=0.5, val_auc=val, n_train=10, n_test=10,
        )  # fmt: skip

    records = [
        rec("sae", 1, 0.6, k=2),
        rec("sae", 2, 0.8, k=2),
        rec("logreg", 1, 0.9, val=0.7),
        rec("pca", 1, 0.5, val=0.8),  # best on validation for seed 1
        rec("logreg", 2, 0.7, val=0.9),  # best for seed 2
        rec("pca", 2, 0.95, val=0.1),
    ]
    ((name, metrics),) = dataset_units(records)
    assert name == "d"
    assert metrics.auc_k2 == pytest.approx(0.7)  # type: ignore[attr-defined]
    assert metrics.best_baseline_auc == pytest.approx(0.6)  # type: ignore[attr-defined]
