"""The random-SAE and random-model controls, reseeds and ``compare`` through a whole eval
(tiny model, scripted judge)."""

import math
from pathlib import Path
from typing import Any

import pytest
from helpers import Judge, autointerp_config

from sae_interp.activations.latents import latent_cache_for, match_by_frequency
from sae_interp.activations.records import LatentRecord, RecordStatus, Window
from sae_interp.base.errors import SaeInterpError
from sae_interp.cli import main as cli_main
from sae_interp.compare import compare, comparison_table, load_result
from sae_interp.evals.autointerp import run_eval
from sae_interp.evals.autointerp.main import DEFINITION
from sae_interp.evals.common.arms import with_train_of
from sae_interp.evals.common.scored_models import LatentScore
from sae_interp.framework.runner import plan_per_sae
from sae_interp.llm.settings import LLM_BACKENDS
from sae_interp.models import load_model
from sae_interp.saes.random_sae import random_like
from sae_interp.testing import make_tiny_sae


@pytest.fixture
def judge() -> Judge:
    judge = Judge()
    LLM_BACKENDS.register("test-judge", lambda settings, stack: judge.backend, overwrite=True)
    return judge


def test_random_sae_arm_and_reseeds_in_one_run(
    judge: Judge, tmp_path: Path, corpus_file: Path
) -> None:
    sae = make_tiny_sae(d_sae=32, k=4)
    cfg = autointerp_config(tmp_path, corpus_file, random_sae_control=True, seeds=[42, 7])
    (plan,) = plan_per_sae(DEFINITION, cfg, saes={"tiny": sae})
    (out,) = run_eval(cfg, saes={"tiny": sae})
    m = out.eval_result_metrics
    # the all-ones judge scores exactly chance whatever the SAE: every arm is 0.5
    assert m.detection.balanced_accuracy.value == 0.5
    assert m.random_sae_control is not None and m.random_sae_control.n_latents == 4
    assert m.random_sae_control.balanced_accuracy.value == 0.5
    assert m.real_minus_random_sae.balanced_accuracy.value == pytest.approx(0.0)
    assert m.real_minus_shuffled_control.balanced_accuracy.lo == pytest.approx(0.0)
    # seed 42 is the run's own seed; 7 is the one extra
    assert m.reseed is not None and m.reseed["balanced_accuracy"].seeds == [42, 7]
    assert m.reseed["balanced_accuracy"].between_seed_sd == pytest.approx(0.0)
    # the random SAE's latents are its own, with their own explanations and results
    random_jsonl = next((tmp_path / "out" / "autointerp").rglob("latents_*_random_sae.jsonl"))
    assert len(random_jsonl.read_text().splitlines()) == 4
    reseed_jsonl = next((tmp_path / "out" / "autointerp").rglob("latents_*_reseed.jsonl"))
    assert len(reseed_jsonl.read_text().splitlines()) == 4
    stores = list((tmp_path / "out" / "explanations").rglob("*.jsonl"))
    assert len(stores) == 2  # the SAE's and the random SAE's
    # 4 + 4 explanations; detection: (real + control) x 2 batches x 4 latents, for the run and
    # the reseed; the random SAE: 2 batches x 4 latents, no shuffled control
    assert m.llm_usage["calls"] == 8 + 2 * (4 * 2 * 2) + 4 * 2 == plan.calls  # dry run exact
    # the random SAE's arm is a result of its own beside the SAE's, which compare reads
    arm = load_result(tmp_path / "out" / "autointerp" / "tiny-random__tiny_random_sae_0.json")
    assert arm.provenance.sae_spec == "tiny#random_sae_0"
    assert sorted(r.latent for r in arm.eval_result_details) == sorted(
        r.latent for r in random_jsonl_results(random_jsonl)
    )
    assert arm.eval_result_metrics.random_sae_control is None
    assert arm.eval_result_metrics.detection == m.random_sae_control
    versus = compare(out, arm)
    assert (versus.n_latents_a, versus.n_latents_b) == (4, 4)
    (bacc,) = [row for row in versus.metrics if row.metric == "balanced_accuracy"]
    assert bacc.difference.value == m.real_minus_random_sae.balanced_accuracy.value


def test_random_model_arm_runs_its_sae_on_the_random_weights_model(
    judge: Judge, tmp_path: Path, corpus_file: Path
) -> None:
    """The random-model arm collects the given SAE on ``random-weights:MODEL@0`` (not on the
    run's model), matches its latents by firing frequency, explains and scores them, and is
    written as a result of its own that reads back and that ``compare`` tests."""
    sae = make_tiny_sae(d_sae=32, k=4)
    control_dir = tmp_path / "trained-on-random"
    make_tiny_sae(d_sae=32, k=4, seed=3).save(control_dir)
    cfg = autointerp_config(
        tmp_path, corpus_file, random_model_control=True, random_model_saes=[str(control_dir)]
    )
    assert cfg.random_model_spec() == "random-weights:tiny-random@0"
    (plan,) = plan_per_sae(DEFINITION, cfg, saes={"tiny": sae})
    (out,) = run_eval(cfg, saes={"tiny": sae})
    m = out.eval_result_metrics
    assert m.random_model_control is not None and m.random_model_control.n_latents == 4
    assert m.random_sae_control is None
    assert m.real_minus_random_model.balanced_accuracy.value == pytest.approx(0.0)
    # 4 + 4 explanations; (real + control) x 2 batches x 4 latents; the arm: 2 x 4, no control
    assert m.llm_usage["calls"] == 8 + 4 * 2 * 2 + 4 * 2 == plan.calls
    (path,) = [p for p in (tmp_path / "out" / "autointerp").glob("*.json") if "trained" in p.name]
    arm = load_result(path)
    assert arm.provenance.sae_spec == str(control_dir)
    assert arm.provenance.model_spec == "random-weights:tiny-random@0"
    assert arm.provenance.model_name == "tiny-random-random-weights-0"
    assert arm.eval_result_metrics.detection == m.random_model_control
    # its latents were matched on the random-weights model's activations, not the run's
    control = load_sae_dir(control_dir)
    real_cache = latent_cache_for(load_model("tiny-random"), sae, **collection(cfg))
    freqs = [float(real_cache.stats.frequency[r.latent]) for r in out.eval_result_details]
    on_random = latent_cache_for(load_model(cfg.random_model_spec()), control, **collection(cfg))
    on_real = latent_cache_for(load_model("tiny-random"), control, **collection(cfg))
    latents = [r.latent for r in arm.eval_result_details]
    assert latents == match_by_frequency(freqs, on_random, cfg.sampling.min_activating)
    assert latents != match_by_frequency(freqs, on_real, cfg.sampling.min_activating)
    versus = compare(out, arm)
    assert not versus.paired and (versus.n_latents_a, versus.n_latents_b) == (4, 4)
    (bacc,) = [row for row in versus.metrics if row.metric == "balanced_accuracy"]
    assert bacc.difference.value == m.real_minus_random_model.balanced_accuracy.value


def collection(cfg: Any) -> dict[str, Any]:
    return {
        "corpus": cfg.corpus,
        "n_tokens": cfg.n_tokens,
        "ctx_len": cfg.ctx_len,
        "batch_size": cfg.batch_size,
    }


def load_sae_dir(directory: Path) -> Any:
    from sae_interp.saes import load_sae

    return load_sae(str(directory), device="cpu")


def test_the_random_model_control_names_what_it_lacks(tmp_path: Path, corpus_file: Path) -> None:
    with pytest.raises(ValueError, match="no SAE trained on a random-weights model ships for tiny"):
        autointerp_config(tmp_path, corpus_file, random_model_control=True)
    with pytest.raises(ValueError, match="gives 2 SAEs for 1 --saes entries"):
        autointerp_config(
            tmp_path, corpus_file, random_model_control=True, random_model_saes=["a", "b"]
        )


def random_jsonl_results(path: Path) -> list[LatentScore]:
    return [LatentScore.model_validate_json(line) for line in path.read_text().splitlines()]


def test_hard_negatives_reach_the_random_sae_arm_and_reseeds(
    judge: Judge, tmp_path: Path, corpus_file: Path
) -> None:
    """Neighbour negatives need the SAE's decoder: the random SAE's arm draws them from the
    random SAE's, and each reseed from the SAE's, instead of failing for want of sources."""
    sampling = {
        "window_len": 8,
        "n_train": 4,
        "n_test": 4,
        "n_negatives": 4,
        "min_activating": 4,
        "negative_strategy": "neighbour",
    }
    cfg = autointerp_config(
        tmp_path, corpus_file, random_sae_control=True, seeds=[7], sampling=sampling
    )
    (out,) = run_eval(cfg, saes={"tiny": make_tiny_sae(d_sae=32, k=4)})
    m = out.eval_result_metrics
    assert m.random_sae_control is not None and m.random_sae_control.n_latents == 4
    assert m.reseed is not None and m.reseed["balanced_accuracy"].seeds == [42, 7]
    negatives = [
        ex
        for r in out.eval_result_details
        for ex in r.outcome.examples  # type: ignore[union-attr]
        if ex.label == 0
    ]
    assert negatives  # neighbour windows were judged


def _window(seq: int, start: int) -> Window:
    return Window(seq=seq, start=start, end=start + 2, tokens=[1, 2], activations=[1.0, 0.0])


def test_reseeded_test_sets_never_contain_train_windows() -> None:
    base = LatentRecord(
        latent=3,
        status=RecordStatus.ok,
        n_activating_windows=6,
        max_activation=1.0,
        firing_frequency=0.1,
        train=[_window(0, 0), _window(1, 4)],
        test=[_window(2, 0)],
    )
    reseeded = base.model_copy(
        update={"train": [_window(2, 0)], "test": [_window(1, 4), _window(3, 2), _window(0, 2)]}
    )
    record = with_train_of(reseeded, base)
    assert record.train == base.train
    assert [(w.seq, w.start) for w in record.test] == [(3, 2), (0, 2)]


def test_compare_says_whether_two_saes_separate(
    judge: Judge, tmp_path: Path, corpus_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sae = make_tiny_sae(d_sae=32, k=4)
    cfg = autointerp_config(tmp_path, corpus_file, saes=["tiny", "tiny-random"])
    a, b = run_eval(cfg, saes={"tiny": sae, "tiny-random": random_like(sae, 0)})
    comparison = compare(a, b)
    rows = {m.metric: m for m in comparison.metrics}
    # an all-ones judge gives 0.5 to every latent of both SAEs: no separation, p = 1
    assert rows["balanced_accuracy"].difference.value == pytest.approx(0.0)
    assert not rows["balanced_accuracy"].separates and rows["balanced_accuracy"].p_value == 1.0
    assert "does not separate" in rows["balanced_accuracy"].verdict
    # the run's bookkeeping is pooled in the result but is not a score to test
    assert "failed_batch_fraction" not in rows and {"f1", "recall"} <= set(rows)
    assert "failed_batch_fraction" in a.eval_result_metrics.model_dump()["detection"]
    paths = sorted((tmp_path / "out" / "autointerp").glob("*.json"))
    assert load_result(paths[0]).eval_type_id == "autointerp"
    assert cli_main(["compare", str(paths[0]), str(paths[1]), "--n-permutations", "200"]) == 0
    printed = capsys.readouterr().out
    assert "balanced_accuracy" in printed and "A - B [95% CI]" in printed
    missing = tmp_path / "nope.json"
    assert cli_main(["compare", str(missing), str(paths[1])]) == 2
    assert f"result file {missing} does not exist" in capsys.readouterr().err
    assert not comparison.paired  # two SAEs: independent latents
    with pytest.raises(SaeInterpError, match="results of different SAEs"):
        compare(a, b, pairing="paired")


def test_compare_pairs_two_results_on_the_same_latents(
    judge: Judge, tmp_path: Path, corpus_file: Path
) -> None:
    """The same SAE's latents scored two ways (here: every balanced accuracy 0.1 lower, as
    another judge or negative source might give) are compared latent by latent."""
    (a,) = run_eval(
        autointerp_config(tmp_path, corpus_file), saes={"tiny": make_tiny_sae(d_sae=32, k=4)}
    )
    lowered = [
        r.model_copy(
            update={
                "metrics": r.metrics.model_copy(
                    update={"balanced_accuracy": r.metrics.balanced_accuracy - 0.1}
                )
            }
        )
        for r in reversed(a.eval_result_details)  # order does not matter, latent ids do
    ]
    b = a.model_copy(update={"eval_result_details": lowered})
    paired = compare(a, b)
    (row,) = [m for m in paired.metrics if m.metric == "balanced_accuracy"]
    assert paired.paired and paired.n_latents_a == paired.n_latents_b == 4
    assert row.difference.value == pytest.approx(0.1)
    assert row.difference.lo == pytest.approx(0.1) and row.difference.hi == pytest.approx(0.1)
    # 4 equal differences: 2 of the 16 sign patterns are as extreme, p = 0.125 exactly
    assert row.p_value == pytest.approx(0.125) and not row.separates
    assert "paired" in comparison_table(paired).splitlines()[0]
    independent = compare(a, b, pairing="independent")
    (row,) = [m for m in independent.metrics if m.metric == "balanced_accuracy"]
    assert not independent.paired and row.p_value == pytest.approx(
        2 / 70, abs=0.01
    )  # 2 of the C(8, 4) splits
    fewer = b.model_copy(update={"eval_result_details": lowered[:3]})
    assert not compare(a, fewer).paired  # another set of latents: independent


def test_an_unreadable_stored_result_is_recomputed(
    judge: Judge, tmp_path: Path, corpus_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sae = make_tiny_sae(d_sae=32, k=4)
    cfg = autointerp_config(tmp_path, corpus_file)
    run_eval(cfg, saes={"tiny": sae})
    (path,) = (tmp_path / "out" / "autointerp").glob("*.json")
    path.write_text('{"eval_type_id": "autointerp", "old": "schema"}')
    (out,) = run_eval(cfg, saes={"tiny": sae})
    assert "cannot be read" in caplog.text
    assert load_result(path).eval_result_metrics.n_scored == out.eval_result_metrics.n_scored == 4


def test_all_table_shows_each_score_with_its_controls(
    judge: Judge, tmp_path: Path, corpus_file: Path
) -> None:
    from sae_interp.evals.all import AllEvalConfig
    from sae_interp.evals.all import run_eval as run_all
    from sae_interp.evals.all.main import all_table

    values = autointerp_config(tmp_path, corpus_file).model_dump()
    values |= {"evals": ["autointerp", "fuzzing"], "random_sae_control": True, "seeds": [42, 7]}
    cfg = AllEvalConfig.model_validate(values)
    outputs = run_all(cfg, saes={"tiny": make_tiny_sae(d_sae=32, k=4)})
    for name in ("autointerp", "fuzzing"):  # each eval's random-SAE arm as its own result
        arm = load_result(tmp_path / "out" / name / "tiny-random__tiny_random_sae_0.json")
        assert len(arm.eval_result_details) == 4
    lines = all_table(outputs).splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == [
        "sae",
        "eval",
        "metric",
        "real",
        "shuffled explanation",
        "real − shuffled",
        "random SAE",
        "real − random SAE",
        "SD between seeds",
        "SD between latents",
    ]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:-1]]
    assert [(r[1], r[2]) for r in rows] == [
        ("autointerp", "balanced_accuracy"),
        ("autointerp", "auroc"),
        ("fuzzing", "balanced_accuracy"),
        ("fuzzing", "auroc"),
    ]
    # the all-ones judge: chance everywhere, an interval on every score and difference
    detection = rows[0]
    assert detection[3].startswith("0.5 [") and detection[4].startswith("0.5 [")
    assert detection[5].startswith("0 [") and detection[7].startswith("0 [")
    # 4 + 4 explanations (the SAE's and the random SAE's); per eval (real + control) x 2
    # batches x 4 latents for the run and the reseed, and 2 x 4 for the random SAE
    assert lines[-1] == f"tiny: 4 latents explained, {8 + 2 * (16 + 16 + 8)} LLM calls"


def test_compare_reads_results_with_undefined_metrics(
    judge: Judge, tmp_path: Path, corpus_file: Path
) -> None:
    """A result whose control precision is undefined (no positive answer: NaN, written as
    null) reads back for compare; a result that is no longer readable is one sentence."""
    (out,) = run_eval(
        autointerp_config(tmp_path, corpus_file), saes={"tiny": make_tiny_sae(d_sae=32, k=4)}
    )
    first = out.eval_result_details[0]
    undefined = first.control_metrics.model_copy(update={"precision": float("nan")})
    details = [first.model_copy(update={"control_metrics": undefined})]
    path = out.model_copy(update={"eval_result_details": details}).save(tmp_path / "nan.json")
    assert '"precision": null' in path.read_text()
    loaded = load_result(path)
    assert math.isnan(loaded.eval_result_details[0].control_metrics.precision)
    assert compare(out, loaded).n_latents_b == 1
    path.write_text(path.read_text().replace('"n_examples"', '"n_examples_old"'))
    with pytest.raises(SaeInterpError, match="is not a readable autointerp result"):
        load_result(path)
