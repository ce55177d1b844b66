import re
from collections.abc import Sequence

import pytest

from sae_interp.activations.records import LatentRecord, RecordStatus, Window, WindowKind
from sae_interp.explainers.one_shot import OneShotSettings
from sae_interp.explainers.tree import TreeExplainer, TreeSettings, split_windows
from sae_interp.explainers.tree_state import TreeProgress
from sae_interp.llm.scripted import ScriptedBackend
from sae_interp.llm.service import LLMService
from sae_interp.llm.types import LLMRequest
from sae_interp.scorers.simulation import SimulatedWindow


class Tokenizer:
    def decode(self, ids: Sequence[int]) -> str:
        return f" t{ids[0]}"


def make_record(n_train: int = 12) -> LatentRecord:
    train = []
    for k in range(n_train):
        acts = [0.0] * 8
        acts[k % 8] = 1.0 + k
        train.append(
            Window(
                seq=k,
                start=1,
                end=9,
                tokens=list(range(8)),
                activations=acts,
                kind=WindowKind.activating,
                quantile_bin=0,
            )
        )
    return LatentRecord(
        latent=5,
        status=RecordStatus.ok,
        n_activating_windows=n_train,
        max_activation=float(n_train),
        firing_frequency=0.1,
        train=train,
    )


def answer(request: LLMRequest) -> str:
    """Roots answer 'r<seed>'; a revision of X answers 'X+<j>' (routes on the request)."""
    user = request.messages[-1].content
    revised = re.search(r"^Explanation: (.*)$", user, flags=re.MULTILINE)
    if revised is None:
        return f"Looking at it.\n[EXPLANATION]: r{request.seed}"
    return f"Better.\n[EXPLANATION]: {revised.group(1)}+{(request.seed or 0) % 10}"


class ScriptedSimulator:
    """Predictions = q * truth + (1 - q) * a fixed noise pattern, with q from the text
    (``quality``); texts in ``overfit`` are perfect on train windows and pure noise on
    the others."""

    def __init__(
        self, quality: dict[str, float], overfit: set[int] = frozenset(), fail_on: int = -1
    ):  # type: ignore[assignment]
        self.quality = quality
        self.train_seqs = overfit
        self.calls = 0
        self.fail_on = fail_on

    def q(self, text: str, window: Window) -> float:
        if text in self.quality:
            value = self.quality[text]
        else:  # revisions: a little better per digit
            value = min(0.45, 0.05 + 0.04 * sum(int(c) for c in re.findall(r"\d", text)))
        if text.startswith("overfit"):
            return 1.0 if window.seq in self.train_seqs else 0.0
        return value

    def __call__(self, pairs: Sequence[tuple[str, Window]]) -> list[SimulatedWindow]:
        self.calls += 1
        if self.calls == self.fail_on:
            raise KeyboardInterrupt
        out = []
        for text, w in pairs:
            q = self.q(text, w)
            peak = max(w.activations)
            noise = [((i * 5 + w.seq * 3) % 7) / 6 * peak for i in range(len(w.activations))]
            predicted = [q * a + (1 - q) * n for a, n in zip(w.activations, noise, strict=True)]
            out.append(
                SimulatedWindow(
                    kind="activating",
                    seq=w.seq,
                    start=w.start,
                    true=w.activations,
                    predicted=predicted,
                )
            )
        return out


def run_tree(
    sim: ScriptedSimulator, progress: TreeProgress | None = None, saved: list | None = None
):  # type: ignore[no-untyped-def]
    backend = ScriptedBackend(answer)
    service = LLMService(backend, concurrency=2)
    tree = TreeExplainer(TreeSettings(), OneShotSettings(), Tokenizer(), service, sim, seed=0)
    try:
        result = tree.explain(make_record(), progress, saved.append if saved is not None else None)
    finally:
        service.close()
    return result, backend


def test_split_is_disjoint_and_spread() -> None:
    train, validation = split_windows(make_record().train, 3)
    assert [w.seq for w in validation] == [2, 5, 8, 11]
    assert not {w.seq for w in train} & {w.seq for w in validation}


def test_tree_expands_keeps_width_and_validates_beams() -> None:
    sim = ScriptedSimulator({"r0": 0.1, "r1": 0.2, "r2": 0.15})
    result, backend = run_tree(sim)
    nodes = result.tree
    assert nodes is not None
    assert [sum(n.depth == d for n in nodes) for d in (1, 2, 3)] == [3, 6, 6]
    assert len(backend.calls) == 3 + 6 + 6
    level2 = [n for n in nodes if n.depth == 2]
    best3 = sorted(level2, key=lambda n: -(n.train_score or -2))[:3]
    assert {n.parent for n in nodes if n.depth == 3} == {n.id for n in best3}
    assert all(n.train_score is not None and n.train_score < 0.9 for n in nodes)
    assert all(n.feedback is not None and len(n.feedback.tokens) == 8 for n in nodes)
    validated = [n for n in nodes if n.validated]
    assert len(validated) == 9  # the beam of each level
    best = max(validated, key=lambda n: n.validation_score or -2)
    assert result.text == best.text
    # the whole search's cost stays with the explanation: 15 answers, every node simulated
    # on the tree-train windows and the 9 beam nodes on the validation windows
    train, validation = split_windows(make_record().train, TreeSettings().validation_every)
    assert result.cost is not None and result.cost.calls == 15
    assert result.cost.simulated_windows == 15 * len(train) + 9 * len(validation)
    assert result.cost.prompt_tokens == sum(n.cost.prompt_tokens for n in nodes) > 0
    assert all(n.cost.calls == 1 for n in nodes)


def test_tree_stops_early_at_the_threshold() -> None:
    result, backend = run_tree(ScriptedSimulator({"r0": 0.1, "r1": 1.0, "r2": 0.1}))
    assert result.tree is not None and len(result.tree) == 3 and len(backend.calls) == 3
    assert result.text == "r1"


def test_tree_picks_by_validation_not_train() -> None:
    train, _ = split_windows(make_record().train, 3)
    overfit = {w.seq for w in train}
    sim = ScriptedSimulator({"r0": 0.1, "r1": 0.4, "r2": 0.1}, overfit=overfit)
    sim.quality["r0"] = 0.1
    backend = ScriptedBackend(
        lambda r: answer(r).replace("r0", "overfit") if r.seed == 0 else answer(r)
    )
    service = LLMService(backend)
    tree = TreeExplainer(TreeSettings(), OneShotSettings(), Tokenizer(), service, sim)
    result = tree.explain(make_record())
    service.close()
    nodes = {n.text: n for n in result.tree or []}
    assert nodes["overfit"].train_score == pytest.approx(1.0)  # best on train: stops early
    assert len(nodes) == 3
    assert result.text == "r1"
    assert (nodes["r1"].validation_score or 0) > (nodes["overfit"].validation_score or 0)


def test_tree_resumes_from_its_checkpoint() -> None:
    quality = {"r0": 0.1, "r1": 0.2, "r2": 0.15}
    full, _ = run_tree(ScriptedSimulator(quality))
    saved: list[TreeProgress] = []
    with pytest.raises(KeyboardInterrupt):
        run_tree(ScriptedSimulator(quality, fail_on=3), saved=saved)  # killed scoring level 3
    assert [sum(n.depth == d for n in saved[-1].nodes) for d in (1, 2, 3)] == [3, 6, 0]
    resumed, backend = run_tree(ScriptedSimulator(quality), progress=saved[-1])
    assert len(backend.calls) == 6  # only level 3 is asked again
    assert resumed.text == full.text
    assert [(n.text, n.train_score) for n in resumed.tree or []] == [
        (n.text, n.train_score) for n in full.tree or []
    ]


def test_revisions_that_critique_the_explanation_are_not_scored_as_explanations() -> None:
    """Small models often answer the revision prompt with a comment on the old explanation
    ("The explanation omits ..."); such a child is kept with its reason, never simulated."""

    def critic(request: LLMRequest) -> str:
        if request.messages[-1].content.startswith("Explanation: r1"):
            return "[CRITIQUE]: too broad\n[EXPLANATION]: The explanation misses articles."
        return answer(request)

    sim = ScriptedSimulator({"r0": 0.1, "r1": 0.2, "r2": 0.15})
    service = LLMService(ScriptedBackend(critic))
    tree = TreeExplainer(TreeSettings(), OneShotSettings(), Tokenizer(), service, sim)
    result = tree.explain(make_record())
    service.close()
    children_of_r1 = [n for n in result.tree or [] if n.depth == 2 and n.parent == 1]
    assert len(children_of_r1) == 2
    for node in children_of_r1:
        assert node.text is None and node.train_score is None
        assert node.error == "the answer comments on the explanation instead of giving a new one"
    assert "The explanation" not in (result.text or "")
    # the revision prompt shows one worked revision before the latent's own
    request = tree.child_requests(next(n for n in result.tree or [] if n.id == 0))[0]
    roles = [m.role for m in request.messages]
    assert roles == ["system", "user", "assistant", "user"]
    assert request.messages[2].content.startswith("[CRITIQUE]: ")
