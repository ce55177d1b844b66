"""Export to Neuronpedia and SAEBench (read back), plots and the report page, on real results
of the tiny model (core + autointerp with given explanations, two SAEs)."""

import json
import re
from pathlib import Path

import pytest

from sae_interp.cli import main as cli_main
from sae_interp.export import ExportConfig, export
from sae_interp.interop import read_explanations
from sae_interp.interop.results import load_results
from sae_interp.plotting import (
    compare_results,
    compare_saes,
    core_vs_l0,
    latent_card,
    probing_auc_vs_k,
    recall_by_quantile,
    score_vs_control,
)
from sae_interp.report import build_report
from sae_interp.report.page import cell, plots
from sae_interp.testing import make_tiny_tokenizer
from sae_interp.testing.demo_results import write_demo_results


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("results")
    return {"dir": write_demo_results(root), "cache": root / "cache" / "latents"}


def _data(results: dict, eval_type: str) -> list[dict]:
    return [d for _, d in load_results([results["dir"]]) if d["eval_type_id"] == eval_type]


def test_neuronpedia_export_round_trip(results: dict, tmp_path: Path) -> None:
    written = export(
        ExportConfig(
            results=[results["dir"]],
            format="neuronpedia",
            output_dir=tmp_path,
            model_id="gemma-3-270m",
            source_id="1-res-tiny",
        )
    )
    assert len(written) == 2  # one file per SAE
    by_sae = {d["provenance"]["sae_spec"]: d for d in _data(results, "autointerp")}
    for path in written:
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        assert {r["modelId"] for r in rows} == {"gemma-3-270m"} and {r["layer"] for r in rows} == {
            "1-res-tiny"
        }
        assert set(rows[0]) == {
            "modelId",
            "layer",
            "index",
            "description",
            "typeName",
            "explanationModelName",
        }
        sae = path.stem.split("__")[1]
        expected = {
            d["latent"]: d["explanation"]
            for d in by_sae[sae]["eval_result_details"]
            if d["explanation"]
        }
        back = read_explanations(path)  # our own reader takes the export back
        assert back.format == "neuronpedia"
        assert {k: v.text for k, v in back.items.items()} == expected


def test_saebench_export_round_trip(results: dict, tmp_path: Path) -> None:
    argv = [
        "export",
        "--results",
        str(results["dir"]),
        "--format",
        "saebench",
        "--output-dir",
        str(tmp_path),
    ]
    assert cli_main(argv) == 0
    files = sorted((tmp_path / "saebench").rglob("*_eval_results.json"))
    assert [p.parent.name for p in files] == ["autointerp", "autointerp", "core", "core"]
    keys = {
        "eval_type_id",
        "eval_config",
        "eval_id",
        "datetime_epoch_millis",
        "eval_result_metrics",
        "eval_result_details",
        "eval_result_unstructured",
        "sae_bench_commit_hash",
        "sae_lens_id",
        "sae_lens_release_id",
        "sae_lens_version",
        "sae_cfg_dict",
    }
    ours = {
        (d["eval_type_id"], d["provenance"]["sae_spec"]): d
        for d in _data(results, "autointerp") + _data(results, "core")
    }
    for path in files:
        out = json.loads(path.read_text())
        assert (
            set(out) == keys and path.name == f"sae_interp_{out['sae_lens_id']}_eval_results.json"
        )
        source = ours[(out["eval_type_id"], out["sae_lens_id"])]
        assert (
            out["eval_id"] == source["eval_id"]
            and out["sae_cfg_dict"] == source["provenance"]["sae_cfg"]
        )
        if out["eval_type_id"] == "core":
            m = source["eval_result_metrics"]
            assert out["eval_result_metrics"]["sparsity"]["l0"] == pytest.approx(
                m["sparsity"]["l0"]
            )
            rq = out["eval_result_metrics"]["reconstruction_quality"]
            assert rq["explained_variance"] == pytest.approx(
                m["reconstruction"]["explained_variance"]
            )
        else:
            scores = [
                d["metrics"]["balanced_accuracy"]
                for d in source["eval_result_details"]
                if d["metrics"]
            ]
            assert out["eval_result_metrics"]["autointerp"]["autointerp_score"] == pytest.approx(
                sum(scores) / len(scores)
            )
            back = read_explanations(path)  # the SAEBench reader takes it back
            expected = {
                d["latent"]: d["explanation"] for d in source["eval_result_details"] if d["metrics"]
            }
            assert {k: v.text for k, v in back.items.items()} == expected


def _legend(ax) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_score_vs_control_and_recall_plots(results: dict, tmp_path: Path) -> None:
    auto = _data(results, "autointerp")
    figure = score_vs_control(auto, path=tmp_path / "s.png")
    assert (tmp_path / "s.png").stat().st_size > 0
    assert len(figure.axes) == 2
    for ax, data in zip(figure.axes, auto, strict=True):
        n = sum(d["metrics"] is not None for d in data["eval_result_details"])
        labels = _legend(ax)
        assert labels[0] == f"explanation (n={n})" and labels[1].startswith(
            "shuffled-explanation control"
        )
        assert ax.get_xlabel() == "balanced_accuracy"
        assert (
            sum(p.get_height() for p in ax.patches[:10]) == n
        )  # the histogram counts every latent
    rec = recall_by_quantile(auto)
    ax = rec.axes[0]
    assert ax.get_xlabel() == "activation quantile bin (0 = top)" and len(_legend(ax)) == 4
    line = ax.get_lines()[0]
    assert all(0.0 <= y <= 1.0 for y in line.get_ydata())


def test_comparison_and_core_plots(results: dict) -> None:
    figure = compare_saes(
        ["a", "b", "c"],
        [0.5, 0.7, None],
        lo=[0.4, 0.6, None],
        hi=[0.6, 0.9, None],
        metric="m",
        control=[0.5, 0.5, 0.5],
    )
    ax = figure.axes[0]
    assert [p.get_height() for p in ax.patches][:2] == [0.5, 0.7]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert _legend(ax) == ["m", "shuffled-explanation control", "95% interval"] or set(
        _legend(ax)
    ) == {"m", "shuffled-explanation control", "95% interval"}
    # interval objects ({value, lo, hi}) and plain values are both read
    fake = [
        {
            "eval_type_id": "x",
            "provenance": {"sae_spec": "s1"},
            "eval_result_metrics": {"g": {"v": {"value": 0.3, "lo": 0.2, "hi": 0.5}}},
        },
        {
            "eval_type_id": "x",
            "provenance": {"sae_spec": "s2"},
            "eval_result_metrics": {"g": {"v": 0.6}},
        },
    ]
    ax = compare_results(fake, "g.v").axes[0]
    assert [round(p.get_height(), 6) for p in ax.patches] == [
        0.3,
        0.6,
    ] and "95% interval" in _legend(ax)
    core = _data(results, "core")
    fig = core_vs_l0(core)
    assert [a.get_ylabel() for a in fig.axes] == [
        "reconstruction.explained_variance",
        "model_behaviour.ce_loss_recovered",
    ]
    xs = sorted(c.get_offsets()[0][0] for c in fig.axes[0].collections)
    assert xs == sorted(d["eval_result_metrics"]["sparsity"]["l0"] for d in core)


def _probing_result(sae: str, aucs: dict[int, float], baseline: float) -> dict:
    ci = lambda v: {"value": v, "lo": v - 0.05, "hi": v + 0.05, "n": 10}  # noqa: E731
    return {
        "eval_type_id": "sparse_probing",
        "provenance": {"sae_spec": sae},
        "eval_result_metrics": {
            "sae": {f"k{k}": {"test_auc": ci(v), "n_match": 1} for k, v in aucs.items()},
            "baselines": {"best_baseline": {"test_auc": ci(baseline)}},
        },
    }


def test_sparse_probing_plot_shows_auc_by_k_against_the_baseline() -> None:
    results = [
        _probing_result("trained", {16: 0.8, 1: 0.7, 128: 0.85}, 0.9),
        _probing_result("random", {1: 0.6, 16: 0.7}, 0.9),
    ]
    ax = probing_auc_vs_k(results).axes[0]
    lines = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    assert [list(line.get_xdata()) for line in lines] == [[1, 16, 128], [1, 16]]  # sorted by k
    assert list(lines[0].get_ydata()) == [0.7, 0.8, 0.85]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert [line.get_ydata()[0] for line in dashed] == [0.9, 0.9]
    assert ax.get_xscale() == "log" and _legend(ax) == ["trained", "random"]
    shown = plots(results)  # the report page draws it for sparse probing results
    assert len(shown) == 1 and "sparse probing: mean test AUC by k" in shown[0]


def test_latent_card_shades_tokens() -> None:
    windows = [(["a", " b", "\n"], [0.0, 2.0, 4.0]), (["c"], [1.0])]
    figure = latent_card(
        windows, explanation="letters", scores={"detection": 0.75, "auroc": None}, title="latent 3"
    )
    ax = figure.axes[0]
    tokens = [t for t in ax.texts if (t.get_gid() or "").startswith("token:")]
    assert [t.get_text() for t in tokens] == ["a", " b", "↵", "c"]
    shades = [t.get_bbox_patch().get_facecolor() for t in tokens]
    assert shades[2] != shades[0] and shades[1] != shades[0]  # darker with activation
    assert ax.get_title(loc="left") == "latent 3 — letters"
    assert "detection: 0.750" in next(t for t in ax.texts if t.get_gid() == "scores").get_text()


def test_report_page(results: dict) -> None:
    page = build_report(
        results["dir"], tokenizer=make_tiny_tokenizer(), cache_root=results["cache"], max_cards=4
    )
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing fetched from outside
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # escaped
    assert page.count('<table class="metrics">') == 2  # autointerp and core
    # it opens on the headline table: per eval and SAE, the headline score beside its controls
    assert page.index('id="headline"') < page.index('id="tables"')
    headline = page[page.index('<table class="headline">') : page.index("</table>")]
    rows = re.findall(r"<tr><td>(\w+)</td><td>([\w-]+)</td><td>([\w.]+)</td>", headline)
    assert rows == [
        ("autointerp", "tiny-a", "detection.balanced_accuracy"),
        ("autointerp", "tiny-b", "detection.balanced_accuracy"),
        ("core", "tiny-a", "intervals.explained_variance"),
        ("core", "tiny-b", "intervals.explained_variance"),
    ]
    for data in _data(results, "autointerp"):
        m = data["eval_result_metrics"]
        real, control = (
            m["detection"]["balanced_accuracy"],
            m["shuffled_control"]["balanced_accuracy"],
        )
        difference = m["real_minus_shuffled_control"]["balanced_accuracy"]
        expected = "".join(f"<td>{cell(v)}</td>" for v in (real, control, difference))
        assert expected in headline
    assert page.count("data:image/png;base64,") >= 4  # core vs L0, scores, recall, comparisons
    assert page.count('<section class="card"') == 8  # 4 latents x 2 SAEs
    assert 'class="tok" style="background: rgba(230, 110, 0, 1.00)"' in page  # peak token shaded
    assert "source: jsonl:" in page
    no_windows = build_report(results["dir"], windows=False, max_cards=1)
    assert "windows not available" in no_windows


def test_report_command(results: dict, tmp_path: Path) -> None:
    out = tmp_path / "page.html"
    assert cli_main(["report", str(results["dir"]), "--output", str(out), "--no-windows"]) == 0
    assert out.read_text().count('<section class="card"') == 10  # the 5 given latents per SAE
    assert cli_main(["report", str(tmp_path / "nothing")]) == 2
