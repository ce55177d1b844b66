"""``--explanations``: given explanations are scored without the explainer, their source is
recorded, a changed file makes the stored result stale, out-of-range latents are reported."""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import task_of

from sae_interp.cli import main as cli_main
from sae_interp.evals.autointerp import AutoInterpEvalConfig
from sae_interp.evals.autointerp import run_eval as run_autointerp
from sae_interp.evals.embedding import EmbeddingEvalConfig
from sae_interp.evals.embedding import run_eval as run_embedding
from sae_interp.llm import ScriptedBackend
from sae_interp.llm.settings import LLM_BACKENDS
from sae_interp.testing import TINY_MODEL_SPEC, make_tiny_sae
from sae_interp.testing.tiny import TINY_WORDS

SAE = {"tiny": make_tiny_sae(d_sae=32, k=4)}


class Explainer:
    """Answers explanation requests (naming the top token); any other request is an error."""

    def __init__(self) -> None:
        self.backend = ScriptedBackend(self.reply)
        self.explained = 0

    def reply(self, request):  # type: ignore[no-untyped-def]
        assert task_of(request) == "explain", "only explaining here"
        self.explained += 1
        return "[EXPLANATION]: the token dog"


class WordEmbedder:
    def encode(self, texts, **kwargs):  # type: ignore[no-untyped-def]
        out = np.array([[t.count(w) for w in TINY_WORDS] for t in texts], dtype=np.float32)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


@pytest.fixture
def explainer(monkeypatch) -> Explainer:  # type: ignore[no-untyped-def]
    explainer = Explainer()
    LLM_BACKENDS.register("explain-only", lambda settings, stack: explainer.backend, overwrite=True)
    monkeypatch.setattr(
        "sae_interp.evals.embedding.main.load_embedder", lambda *a, **k: WordEmbedder()
    )
    return explainer


def _write(path: Path, texts: dict[int, str]) -> Path:
    path.write_text(
        "".join(json.dumps({"latent": k, "explanation": v}) + "\n" for k, v in texts.items())
    )
    return path


def _values(tmp_path: Path, corpus: Path, **kw) -> dict:
    return {
        "model": TINY_MODEL_SPEC,
        "saes": ["tiny"],
        "corpus": str(corpus),
        "n_tokens": 1024,
        "ctx_len": 33,
        "device": "cpu",
        "output_dir": tmp_path / "out",
        "sampling": {
            "window_len": 8,
            "n_train": 2,
            "n_test": 4,
            "n_negatives": 4,
            "min_activating": 2,
        },
        "llm": {"backend": "explain-only", "cache": False},
    } | kw


def test_given_explanations_skip_the_explainer_and_go_stale_when_changed(
    explainer: Explainer, tmp_path: Path, corpus_file: Path
) -> None:
    texts = {k: f"the token {TINY_WORDS[k % len(TINY_WORDS)]}" for k in range(6)} | {40: "beyond"}
    path = _write(tmp_path / "mine.jsonl", texts)
    cfg = EmbeddingEvalConfig.model_validate(_values(tmp_path, corpus_file, explanations=str(path)))
    assert cfg.explanations_digest is not None
    (out,) = run_embedding(cfg, saes=SAE)
    assert explainer.explained == 0  # every latent had an explanation: no LLM at all
    details = {d.latent: d for d in out.eval_result_details}
    assert sorted(details) == [0, 1, 2, 3, 4, 5, 40]  # the file's latents, none dropped
    assert details[40].status == "out_of_range" and out.eval_result_metrics.n_out_of_range == 1
    scored = [d for d in details.values() if d.metrics is not None]
    assert scored, "some latents of the tiny SAE fire"
    for d in scored:
        assert d.explanation == texts[d.latent]
        assert d.explanation_source == f"jsonl:{path}:{d.latent + 1}"  # file and line

    # same file: the stored result stands; a changed explanation makes it stale
    (again,) = run_embedding(cfg, saes=SAE)
    assert again.eval_id == out.eval_id
    changed = scored[0].latent
    _write(path, texts | {changed: "something else entirely"})
    cfg2 = EmbeddingEvalConfig.model_validate(
        _values(tmp_path, corpus_file, explanations=str(path))
    )
    assert cfg2.explanations_digest != cfg.explanations_digest
    (fresh,) = run_embedding(cfg2, saes=SAE)
    assert fresh.eval_id != out.eval_id
    assert {d.latent: d.explanation for d in fresh.eval_result_details}[changed] == (
        "something else entirely"
    )
    # moving the file does not make it stale: only its content counts
    moved = _write(tmp_path / "moved.jsonl", texts | {changed: "something else entirely"})
    cfg3 = EmbeddingEvalConfig.model_validate(
        _values(tmp_path, corpus_file, explanations=str(moved))
    )
    (same,) = run_embedding(cfg3, saes=SAE)
    assert same.eval_id == fresh.eval_id


def test_latents_without_a_given_explanation_are_explained(
    explainer: Explainer, tmp_path: Path, corpus_file: Path
) -> None:
    path = _write(tmp_path / "one.jsonl", {0: "the token cat"})
    values = _values(tmp_path, corpus_file, explanations=str(path), latents=list(range(8)))
    (out,) = run_embedding(EmbeddingEvalConfig.model_validate(values), saes=SAE)
    sources = {d.latent: d.explanation_source for d in out.eval_result_details if d.explanation}
    assert sources.get(0, "").startswith("jsonl:")
    explained = [k for k, s in sources.items() if s == "explainer"]
    assert explained and explainer.explained == len(explained)


def test_malformed_file_fails_before_anything_loads(tmp_path: Path, corpus_file: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"latent": 1, "explanation": "x"}\n{"latent": 2, "explanation": }\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:2: not valid JSON"):
        AutoInterpEvalConfig.model_validate(_values(tmp_path, corpus_file, explanations=str(path)))


def test_explanations_flag_on_the_command_line(
    explainer: Explainer, tmp_path: Path, corpus_file: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    csv = tmp_path / "e.csv"
    csv.write_text("latent,explanation\n40,beyond the SAE\n")
    argv = [
        "embedding",
        "--model",
        TINY_MODEL_SPEC,
        "--saes",
        "random:identity:blocks.0.hook_resid_post@1",
        "--corpus",
        str(corpus_file),
        "--n-tokens",
        "512",
        "--ctx-len",
        "33",
        "--device",
        "cpu",
        "--output-dir",
        str(tmp_path / "o"),
        "--explanations",
        str(csv),
        "--llm-backend",
        "explain-only",
    ]
    assert cli_main(argv) == 0
    result = json.loads(next((tmp_path / "o" / "embedding").glob("*.json")).read_text())
    assert result["eval_result_metrics"]["n_out_of_range"] == 1
    assert result["eval_config"]["explanations_digest"]
    assert explainer.explained == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("latent,explanation\nx,y\n")
    assert cli_main([*argv[:-4], "--explanations", str(bad)]) == 2
    assert "bad.csv:2: latent id 'x' is not an integer" in capsys.readouterr().err


def test_autointerp_scores_given_explanations(tmp_path: Path, corpus_file: Path) -> None:
    answers: list[str] = []

    def judge(request):  # type: ignore[no-untyped-def]
        assert task_of(request) == "detection"
        n = sum(line.startswith("Excerpt") for line in request.messages[-1].content.splitlines())
        answers.append("x")
        return "[" + ", ".join(["1"] * n) + "]"

    backend = ScriptedBackend(judge)
    LLM_BACKENDS.register("judge-only", lambda settings, stack: backend, overwrite=True)
    path = _write(tmp_path / "e.jsonl", {k: f"the token {TINY_WORDS[k]}" for k in range(4)})
    values = _values(
        tmp_path, corpus_file, explanations=str(path), llm={"backend": "judge-only", "cache": False}
    )
    (out,) = run_autointerp(AutoInterpEvalConfig.model_validate(values), saes=SAE)
    assert answers and all(d.explanation_source for d in out.eval_result_details if d.explanation)
