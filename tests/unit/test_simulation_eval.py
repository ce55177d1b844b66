"""The simulation eval end to end on the tiny model with a scripted LLM that explains a
latent as its top token and simulates by that token (chat mode: the scripted endpoint has no
prompt log-probs), for each explainer kind and with hard negatives."""

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from helpers import TINY_SAMPLING, tiny_eval_values

from sae_interp.compare import compare, load_result
from sae_interp.evals.simulation import SimulationEvalConfig, run_eval
from sae_interp.evals.simulation.main import DEFINITION
from sae_interp.evals.simulation.table import simulation_table
from sae_interp.framework.runner import plan_per_sae
from sae_interp.llm import ScriptedBackend
from sae_interp.llm.errors import FailureKind, LLMError
from sae_interp.llm.settings import LLM_BACKENDS
from sae_interp.testing import make_tiny_sae
from sae_interp.testing.tiny import TINY_WORDS


class KeywordLLM:
    """Routes on what the request asks for (its content), never on prompt constants."""

    def __init__(self) -> None:
        self.backend = ScriptedBackend(self.reply)
        self.kinds: dict[str, int] = {}

    def count(self, kind: str) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + 1

    def reply(self, request):  # type: ignore[no-untyped-def]
        system, last = request.messages[0].content, request.messages[-1].content
        if "Tokens:" in last:  # simulate: 10 on the described token, else 0
            self.count("simulate")
            keyword = re.search(r"Description of the latent: (?:the token )?(\S+)", last)
            word = keyword.group(1) if keyword else ""
            tokens = re.findall(r"^\d+ (.*)$", last, flags=re.MULTILINE)
            return json.dumps([10 if word and word in t else 0 for t in tokens])
        if last.startswith("Explanation:"):  # a tree revision keeps the explanation
            self.count("revise")
            return "[EXPLANATION]: " + last.splitlines()[0].split(": ", 1)[1]
        top = last.split('"')[1] if '"' in last else "the"
        if "JSON" in system:
            self.count("rules")
            return json.dumps([{"activates_on": top, "strength": 5}])
        self.count("explain")
        return f"[EXPLANATION]: the token {top}"


@pytest.fixture
def llm() -> KeywordLLM:
    judge = KeywordLLM()
    LLM_BACKENDS.register("keyword-sim", lambda settings, stack: judge.backend, overwrite=True)
    return judge


def bag_of_words(texts: Sequence[str]) -> np.ndarray:
    out = np.zeros((len(texts), len(TINY_WORDS)), dtype=np.float32)
    for i, text in enumerate(texts):
        for j, word in enumerate(TINY_WORDS):
            out[i, j] = text.count(word)
    return out


def config(tmp_path: Path, corpus: Path, **kw) -> SimulationEvalConfig:  # type: ignore[no-untyped-def]
    values = tiny_eval_values(tmp_path, corpus, {"backend": "keyword-sim", "cache": False})
    values["sampling"] = TINY_SAMPLING | {"n_train": 6}
    return SimulationEvalConfig.model_validate(values | kw)


SAE = {"tiny": make_tiny_sae(d_sae=32, k=4)}


def test_simulation_eval_one_shot_with_controls(
    llm: KeywordLLM, tmp_path: Path, corpus_file: Path
) -> None:
    cfg = config(tmp_path, corpus_file)
    (plan,) = plan_per_sae(DEFINITION, cfg, saes=SAE)
    (out,) = run_eval(cfg, saes=SAE)
    m = out.eval_result_metrics
    assert m.n_scored == 4 and m.simulation_modes == {"chat": 4 * 8 * 2}
    assert plan.calls == len(llm.backend.calls)  # 4 explanations + 64 simulations
    assert m.simulation is not None and m.shuffled_control is not None
    for row in out.eval_result_details:
        assert row.outcome is not None and len(row.outcome.windows) == 8
        kinds = [w.kind for w in row.outcome.windows]
        assert kinds.count("activating") == 4 and kinds.count("random_negative") == 4
    assert m.simulation.correlation.n + m.n_undefined == 4


def test_structured_and_tree_explainers_and_hard_negatives(
    llm: KeywordLLM, tmp_path: Path, corpus_file: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(
        "sae_interp.activations.window_index.sentence_embedder", lambda name: bag_of_words
    )
    cfg = config(
        tmp_path,
        corpus_file,
        explainer_kind="structured",
        compare_explainers=["tree"],
        compare_negatives=["similar_negative"],
        tree={"depth": 2, "n_roots": 2, "width": 2},
        shuffled_control=False,
    )
    (plan,) = plan_per_sae(DEFINITION, cfg, saes=SAE)
    (out,) = run_eval(cfg, saes=SAE)
    m = out.eval_result_metrics
    assert llm.kinds["rules"] == 4 and llm.kinds["explain"] == 4 * 2  # tree roots
    assert llm.kinds["revise"] >= 4  # each tree revised at least its beam once unless perfect
    assert set(m.comparison) == {"explainer_kind=tree", "negative_strategy=similar_negative"}
    assert plan.calls >= 4  # the dry run of the main run only
    rows = [r for r in out.eval_result_details if r.explanation]
    assert all("(strength 5/5)" in r.explanation for r in rows)  # rules rendered as text
    stores = list((tmp_path / "out" / "explanations").rglob("*.jsonl"))
    names = sorted(p.name.split("_")[0] for p in stores if "progress" not in p.name)
    assert names == ["structured", "tree"]  # the similar-negative run reused the rules
    tree_store = next(p for p in stores if p.name.startswith("tree_") and "progress" not in p.name)
    trees = [json.loads(line) for line in tree_store.read_text().splitlines()]
    assert all(t["tree"] and t["tree"][0]["depth"] == 1 for t in trees)
    hard = json.loads((tmp_path / "out" / "simulation" / "tiny-random__tiny.json").read_text())[
        "eval_result_metrics"
    ]["comparison"]["negative_strategy=similar_negative"]
    assert hard["n_scored"] >= 1
    # each compared run is a result of its own, paired with the main run by compare
    tree = load_result(
        tmp_path / "out" / "simulation" / "tiny-random__tiny__explainer_kind_tree.json"
    )
    assert tree.eval_config.explainer_kind == "tree"
    assert compare(out, tree).paired
    # what each explainer cost per latent: rules take one answer, the tree its whole search
    assert m.mean_explanation_cost is not None and m.mean_explanation_cost.calls == 1
    tree_cost = m.comparison["explainer_kind=tree"].mean_explanation_cost
    assert tree_cost is not None and tree_cost.calls > 2 and tree_cost.simulated_windows > 0
    table = simulation_table([out]).splitlines()
    assert [line.split("|")[2].strip() for line in table[2:]] == [
        "explainer_kind=structured, negatives=random_negative",
        "explainer_kind=tree",
        "negative_strategy=similar_negative",
    ]


def test_random_sae_arm_is_a_result_and_failures_are_counted(
    llm: KeywordLLM, tmp_path: Path, corpus_file: Path
) -> None:
    """The simulation eval (which runs its own compared variants) writes its random-SAE arm
    as a result beside the SAE's, and reports a latent whose explanation failed."""
    explain = llm.reply
    failed: list[str] = []

    def reply(request):  # type: ignore[no-untyped-def]
        first_explanation = not failed and "Tokens:" not in request.messages[-1].content
        if first_explanation:
            failed.append(request.messages[-1].content)
            return LLMError("bad request", FailureKind.bad_request)
        return explain(request)

    llm.backend.script = reply
    (out,) = run_eval(config(tmp_path, corpus_file, random_sae_control=True), saes=SAE)
    m = out.eval_result_metrics
    assert out.failures == {"bad_request": 1} and m.n_failed_explanations == 1
    assert m.n_scored == 3
    arm = load_result(tmp_path / "out" / "simulation" / "tiny-random__tiny_random_sae_0.json")
    assert arm.provenance.sae_spec == "tiny#random_sae_0"
    assert len(arm.eval_result_details) == 4
    assert arm.eval_result_metrics.simulation == m.random_sae_control
