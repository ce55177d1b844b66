"""Fuzzing, surprisal, embedding and ``evals.all`` end to end on the tiny model, with a
scripted keyword judge (explains a latent as its top token, judges by that token)."""

import json
import re
from pathlib import Path

import pytest
from helpers import TinyEmbedder, task_of, tiny_eval_values

from sae_interp.evals.all import AllEvalConfig
from sae_interp.evals.all import run_eval as run_all
from sae_interp.evals.all.main import DEFINITION as ALL
from sae_interp.evals.embedding import EmbeddingEvalConfig
from sae_interp.evals.embedding import run_eval as run_embedding
from sae_interp.evals.fuzzing import FuzzingEvalConfig
from sae_interp.evals.fuzzing import run_eval as run_fuzzing
from sae_interp.evals.surprisal import SurprisalEvalConfig
from sae_interp.evals.surprisal import run_eval as run_surprisal
from sae_interp.framework.runner import plan_per_sae
from sae_interp.llm import ScriptedBackend
from sae_interp.llm.settings import LLM_BACKENDS
from sae_interp.testing import TINY_LONG_MODEL_SPEC, TINY_MODEL_SPEC, make_tiny_sae


class KeywordJudge:
    def __init__(self) -> None:
        self.backend = ScriptedBackend(self.reply)
        self.explained = 0

    def reply(self, request):  # type: ignore[no-untyped-def]
        last, task = request.messages[-1].content, task_of(request)
        if task == "explain":
            self.explained += 1
            top = last.split('"')[1] if '"' in last else "the"
            return f"[EXPLANATION]: the token {top}"
        keyword = last.splitlines()[0].rsplit(" ", 1)[-1]
        excerpts = [
            line.split(": ", 1)[1] for line in last.splitlines() if line.startswith("Excerpt")
        ]
        if task == "fuzzing":
            labels = [
                int(bool(m) and all(x == keyword for x in m))
                for m in (re.findall(r"<<(.*?)>>", e) for e in excerpts)
            ]
        else:
            assert task == "detection"
            labels = [int(keyword in e) for e in excerpts]
        return "[" + ", ".join(map(str, labels)) + "]"


@pytest.fixture
def judge() -> KeywordJudge:
    judge = KeywordJudge()
    LLM_BACKENDS.register("keyword-judge", lambda settings, stack: judge.backend, overwrite=True)
    return judge


@pytest.fixture
def embedder(monkeypatch) -> TinyEmbedder:  # type: ignore[no-untyped-def]
    embedder = TinyEmbedder()
    monkeypatch.setattr("sae_interp.evals.embedding.main.load_embedder", lambda *a, **k: embedder)
    return embedder


def _values(tmp_path: Path, corpus: Path, **kw) -> dict:
    llm = {"backend": "keyword-judge", "cache": False}
    scoring_lm = {"model": TINY_LONG_MODEL_SPEC}
    return tiny_eval_values(tmp_path, corpus, llm) | {"scoring_lm": scoring_lm} | kw


SAE = {"tiny": make_tiny_sae(d_sae=32, k=4)}


def test_all_shares_cache_and_explanations(
    judge: KeywordJudge, embedder: TinyEmbedder, tmp_path: Path, corpus_file: Path, isolated_cache
) -> None:
    cfg = AllEvalConfig.model_validate(_values(tmp_path, corpus_file))
    (out,) = run_all(cfg, saes=SAE)
    m = out.eval_result_metrics
    assert m.evals == ["autointerp", "fuzzing", "surprisal", "embedding"]
    assert judge.explained == 4 == m.n_explained  # explained once, used by all four evals
    assert len(list((isolated_cache / "latents").iterdir())) == 1  # one activation cache
    dumped = m.model_dump()
    # the keyword judge is right about its own explanations, so detection beats the control
    real = dumped["autointerp"]["detection"]["balanced_accuracy"]["value"]
    assert real > dumped["autointerp"]["shuffled_control"]["balanced_accuracy"]["value"]
    assert dumped["autointerp"]["real_minus_shuffled_control"]["balanced_accuracy"]["value"] > 0
    for name, key in [
        ("fuzzing", "fuzzing"),
        ("surprisal", "surprisal"),
        ("embedding", "embedding"),
    ]:
        assert dumped[name][key]["n_latents"] == 4
        assert dumped[name]["shuffled_control"]["n_latents"] == 4
    fuzz = json.loads(next((tmp_path / "out" / "fuzzing").glob("*.json")).read_text())
    shown = fuzz["eval_result_details"][0]["outcome"]["examples"]
    assert len(shown) == 8 and all(e["highlighted"] for e in shown)  # 4 true + 4 random marks
    # one row per latent with every eval's scores and controls
    assert len(out.eval_result_details) == 4
    for row in out.eval_result_details:
        assert set(row.metrics) == set(row.control_metrics) == set(m.evals)
    # every eval also wrote its own result, and the combined JSON exists
    for name in m.evals:
        assert len(list((tmp_path / "out" / name).glob("*.json"))) == 1
    combined = next((tmp_path / "out" / "all").glob("*.json"))
    assert json.loads(combined.read_text())["eval_result_metrics"]["embedding"]["embedding"]
    # a later eval on its own reuses the stored explanations: no explainer call
    values = _values(tmp_path, corpus_file, force=True, reuse_explanations=True)
    fuzz_cfg = FuzzingEvalConfig.model_validate(
        {k: v for k, v in values.items() if k != "scoring_lm"}
    )
    (alone,) = run_fuzzing(fuzz_cfg, saes=SAE)
    assert judge.explained == 4
    assert alone.eval_result_metrics.fuzzing.model_dump() == dumped["fuzzing"]["fuzzing"]


def test_dry_run_of_all_counts_explanations_once(
    judge: KeywordJudge, embedder: TinyEmbedder, tmp_path: Path, corpus_file: Path
) -> None:
    values = _values(tmp_path, corpus_file, evals=["autointerp", "fuzzing", "embedding"])
    cfg = AllEvalConfig.model_validate(values)
    (plan,) = plan_per_sae(ALL, cfg, saes=SAE)
    assert judge.backend.calls == []
    (out,) = run_all(cfg, saes=SAE)
    assert plan.calls == len(judge.backend.calls) == out.eval_result_metrics.llm_usage["calls"]
    assert "embedding: 0 calls" in plan.notes


def test_dry_run_of_all_counts_the_explanations_wherever_the_explaining_evals_stand(
    judge: KeywordJudge, embedder: TinyEmbedder, tmp_path: Path, corpus_file: Path
) -> None:
    """An eval that makes no shared explanations (intruder) listed first does not hide the
    explainer calls of the evals after it."""
    calls = {}
    for order in (["autointerp", "intruder", "fuzzing"], ["intruder", "autointerp", "fuzzing"]):
        cfg = AllEvalConfig.model_validate(_values(tmp_path, corpus_file, evals=order))
        (plan,) = plan_per_sae(ALL, cfg, saes=SAE)
        calls[order[0]] = plan.calls
    alone = AllEvalConfig.model_validate(_values(tmp_path, corpus_file, evals=["intruder"]))
    (intruder_only,) = plan_per_sae(ALL, alone, saes=SAE)
    assert calls["intruder"] == calls["autointerp"] > intruder_only.calls
    explained = AllEvalConfig.model_validate(_values(tmp_path, corpus_file, evals=["autointerp"]))
    (autointerp_only,) = plan_per_sae(ALL, explained, saes=SAE)
    # the explanations (4 latents) are in the autointerp plan, so the totals add up
    fuzz = AllEvalConfig.model_validate(_values(tmp_path, corpus_file, evals=["fuzzing"]))
    (fuzzing_only,) = plan_per_sae(ALL, fuzz, saes=SAE)
    n_explanations = 4
    assert calls["intruder"] == (
        intruder_only.calls + autointerp_only.calls + fuzzing_only.calls - n_explanations
    )
    assert judge.backend.calls == []


def test_surprisal_and_embedding_alone_with_resume(
    judge: KeywordJudge, embedder: TinyEmbedder, tmp_path: Path, corpus_file: Path
) -> None:
    cfg = SurprisalEvalConfig.model_validate(_values(tmp_path, corpus_file))
    (out,) = run_surprisal(cfg, saes=SAE)
    m = out.eval_result_metrics
    assert m.surprisal is not None and m.surprisal.n_latents == 4
    assert m.shuffled_control is not None and m.scoring_lm == f"model:{TINY_LONG_MODEL_SPEC}"
    detail = out.eval_result_details[0]
    assert len(detail.outcome.examples) == 8 and detail.metrics.n_examples == 8

    values = {k: v for k, v in _values(tmp_path, corpus_file).items() if k != "scoring_lm"}
    emb_cfg = EmbeddingEvalConfig.model_validate(values)
    run_embedding(emb_cfg, saes=SAE)
    assert judge.explained == 4  # the surprisal run's explanations were reused
    result = next((tmp_path / "out" / "embedding").glob("*.json"))
    jsonl = next((tmp_path / "out" / "embedding").rglob("latents_*.jsonl"))
    lines = jsonl.read_text().splitlines()
    result.unlink()  # as if killed after two latents were written
    jsonl.write_text("\n".join(lines[:2]) + "\n")
    before = embedder.encoded
    (again,) = run_embedding(emb_cfg, saes=SAE)
    # two latents left: their windows (8 each) and two queries each (real + control)
    assert embedder.encoded - before == 2 * 8 + 2 * 2
    assert again.eval_result_metrics.embedding.n_latents == 4


def test_unknown_eval_name_is_rejected(tmp_path: Path, corpus_file: Path) -> None:
    with pytest.raises(ValueError, match="detect"):
        AllEvalConfig.model_validate(_values(tmp_path, corpus_file, evals=["detect"]))


def test_all_from_the_command_line(
    judge: KeywordJudge, embedder: TinyEmbedder, tmp_path: Path, corpus_file: Path, capsys
) -> None:
    from sae_interp.cli import main

    argv = [
        "all",
        "--evals",
        "fuzzing,embedding",
        "--model",
        TINY_MODEL_SPEC,
        "--saes",
        "random:identity:blocks.0.hook_resid_post@1",
        "--corpus",
        str(corpus_file),
        "--n-tokens",
        "1024",
        "--ctx-len",
        "33",
        "--device",
        "cpu",
        "--output-dir",
        str(tmp_path / "o"),
        "--n-latents",
        "2",
        "--sampling-window-len",
        "8",
        "--sampling-min-activating",
        "2",
        "--llm-backend",
        "keyword-judge",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in out.splitlines()]
    scores = {(r[1], r[2]) for r in rows if len(r) > 3}
    assert {("fuzzing", "balanced_accuracy"), ("embedding", "auroc")} <= scores
    assert "result:" in out
