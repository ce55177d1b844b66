"""The tree explainer: one-shot roots revised with simulation feedback.

Per latent, the train windows are split into tree-train and validation windows (every
``validation_every``-th in quantile order: validation is disjoint from train and from the
test windows the scorers see). ``n_roots`` one-shot explanations (sampled) are simulated on
the tree-train windows; each node's train score is the correlation over those tokens and its
feedback the window whose removal would raise that score most. Each node of the beam (the
best ``width`` of a level by train score) proposes ``n_children`` revisions from its feedback,
down to ``depth`` levels; the search stops early once a node reaches ``stop_score``. The beam
members of every level are scored on the validation windows and the best by validation score
is the explanation. The whole tree (texts, parents, scores, feedback) is kept in the
explanation, and saved after every level so a killed run resumes where it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import Field

from sae_interp.activations.records import LatentRecord, Window
from sae_interp.base import FrozenModel
from sae_interp.explainers import tree_prompts
from sae_interp.explainers.cost import ExplanationCost
from sae_interp.explainers.explanations import Explanation
from sae_interp.explainers.one_shot import OneShotSettings
from sae_interp.explainers.one_shot import build_request as one_shot_request
from sae_interp.explainers.tree_state import TreeFeedback, TreeNode, TreeProgress
from sae_interp.llm.errors import LLMError
from sae_interp.llm.service import LLMService, recorded_usage
from sae_interp.llm.types import ChatMessage, LLMRequest, LLMResponse
from sae_interp.scorers import simulation_metrics as sm
from sae_interp.scorers.simulation import SimulatedWindow

logger = logging.getLogger(__name__)

Simulate = Callable[[Sequence[tuple[str, Window]]], list[SimulatedWindow]]


class TreeSettings(FrozenModel):
    n_roots: int = Field(default=3, gt=0, description="One-shot explanations the tree starts from.")
    n_children: int = Field(default=2, gt=0, description="Revisions proposed per node.")
    width: int = Field(default=3, gt=0, description="Nodes kept per level (by train score).")
    depth: int = Field(default=3, gt=0, description="Levels, roots included.")
    stop_score: float = Field(default=0.9, description="Stop once a train score reaches this.")
    validation_every: int = Field(
        default=3, ge=2, description="Every n-th train window is held out for validation."
    )
    temperature: float = Field(default=0.7, ge=0, description="Sampling of roots and children.")
    max_tokens: int = Field(default=200, gt=0)


def split_windows(train: Sequence[Window], every: int) -> tuple[list[Window], list[Window]]:
    """(tree-train, validation): every ``every``-th window (1-based) goes to validation."""
    validation = [w for i, w in enumerate(train, 1) if i % every == 0]
    return [w for i, w in enumerate(train, 1) if i % every != 0], validation


def pooled_score(windows: Sequence[SimulatedWindow]) -> float | None:
    read = [w for w in windows if w.predicted is not None]
    return sm.correlation(
        [p for w in read for p in w.predicted or []], [t for w in read for t in w.true]
    )


def worst_window(windows: Sequence[SimulatedWindow]) -> tuple[int, float | None] | None:
    """Index of the window whose removal raises the pooled score most (its score without
    it); when no removal gives a defined score, the window with the largest error."""
    read = [i for i, w in enumerate(windows) if w.predicted is not None]
    if not read:
        return None
    best: tuple[int, float | None] | None = None
    for i in read:
        score = pooled_score([w for j, w in enumerate(windows) if j != i])
        if score is not None and (best is None or best[1] is None or score > best[1]):
            best = (i, score)
    if best is not None:
        return best
    scale = max((max(windows[i].true, default=0.0) for i in read), default=0.0) or 1.0
    errors = {
        i: sum(
            abs(p - 10 * t / scale)
            for p, t in zip(windows[i].predicted or [], windows[i].true, strict=True)
        )
        for i in read
    }
    return max(read, key=lambda i: errors[i]), None


class TreeExplainer:
    def __init__(
        self,
        settings: TreeSettings,
        one_shot: OneShotSettings,
        tokenizer: Any,
        service: LLMService | None,
        simulate: Simulate,
        seed: int = 0,
    ) -> None:
        self.settings = settings
        self.one_shot = one_shot
        self.tokenizer = tokenizer
        self.service = service
        self.simulate = simulate
        self.seed = seed

    def root_requests(self, record: LatentRecord) -> list[LLMRequest]:
        train, _ = split_windows(record.train, self.settings.validation_every)
        base = one_shot_request(
            record.model_copy(update={"train": train}), self.tokenizer, self.one_shot
        )
        return [
            base.model_copy(
                update={"temperature": self.settings.temperature, "seed": self.seed + j}
            )
            for j in range(self.settings.n_roots)
        ]

    def child_requests(self, node: TreeNode) -> list[LLMRequest]:
        fb = node.feedback
        tokens, predicted, true = (fb.tokens, fb.predicted, fb.true) if fb else ([], [], [])
        user = tree_prompts.user_message(node.text or "", node.train_score, tokens, predicted, true)
        messages = (
            ChatMessage(role="system", content=tree_prompts.SYSTEM),
            ChatMessage(role="user", content=tree_prompts.DEMO_USER),
            ChatMessage(role="assistant", content=tree_prompts.DEMO_ANSWER),
            ChatMessage(role="user", content=user),
        )
        return [
            LLMRequest(
                messages=messages,
                max_tokens=self.settings.max_tokens,
                temperature=self.settings.temperature,
                seed=self.seed + 1000 * (node.id + 1) + j,
            )
            for j in range(self.settings.n_children)
        ]

    def _nodes(
        self,
        start: int,
        parents: Sequence[int | None],
        depth: int,
        requests: list[LLMRequest],
        parse: Callable[[str], tuple[str | None, str | None]],
    ) -> list[TreeNode]:
        """One node per answer; ``parse`` gives (explanation, None) or (None, why not)."""
        if self.service is None:
            raise RuntimeError("the tree explainer was set up for planning only (no LLM)")
        answers = self.service.complete_all(requests)
        out = []
        for k, (parent, answer) in enumerate(zip(parents, answers, strict=True)):
            node = TreeNode(id=start + k, parent=parent, depth=depth, text=None)
            if isinstance(answer, LLMError):
                out.append(node.model_copy(update={"error": str(answer)}))
                continue
            assert isinstance(answer, LLMResponse)
            text, error = parse(answer.text)
            if text is None:
                self.service.evict(requests[k])  # not kept: a rerun asks again
            update = {"text": text, "raw": answer.text, "error": error}
            out.append(node.model_copy(update=update | {"cost": ExplanationCost.of(answer)}))
        return out

    def _simulated(
        self, nodes: Sequence[TreeNode], windows: Sequence[Window]
    ) -> list[list[SimulatedWindow]]:
        """Each node's simulation of ``windows``, its cost added to the node's (chat-mode
        simulations are LLM calls of this thread; all-at-once ones report their prompt)."""
        pairs = [(n.text or "", w) for n in nodes for w in windows]
        with recorded_usage() as used:
            sims = list(self.simulate(pairs))
        chat_tokens = used["prompt_tokens"] / len(pairs) if pairs else 0.0
        out = [sims[i * len(windows) : (i + 1) * len(windows)] for i in range(len(nodes))]
        for node, mine in zip(nodes, out, strict=True):
            node.cost = node.cost + ExplanationCost(
                simulated_windows=len(mine),
                simulator_prompt_tokens=sum(w.prompt_tokens for w in mine)
                + round(chat_tokens * len(mine)),
            )
        return out

    def _score(
        self, nodes: list[TreeNode], windows: Sequence[Window], record: LatentRecord
    ) -> None:
        readable = [n for n in nodes if n.text]
        for node, mine in zip(readable, self._simulated(readable, windows), strict=True):
            node.train_score = pooled_score(mine)
            worst = worst_window(mine)
            if worst is None:
                continue
            i, without = worst
            node.feedback = TreeFeedback(
                seq=windows[i].seq,
                start=windows[i].start,
                tokens=windows[i].str_tokens(self.tokenizer),
                predicted=list(mine[i].predicted or []),
                true=sm.rescale(windows[i].activations, record.max_activation),
                score_without=without,
            )

    def _validate(self, nodes: list[TreeNode], windows: Sequence[Window]) -> None:
        todo = [n for n in nodes if n.text and not n.validated]
        for node, mine in zip(todo, self._simulated(todo, windows), strict=True):
            node.validation_score = pooled_score(mine)
            node.validated = True

    def beam(self, nodes: Sequence[TreeNode], depth: int) -> list[TreeNode]:
        level = [n for n in nodes if n.depth == depth and n.text]
        ranked = sorted(level, key=lambda n: (n.train_score is None, -(n.train_score or 0), n.id))
        return ranked[: self.settings.width]

    def explain(
        self,
        record: LatentRecord,
        progress: TreeProgress | None = None,
        save: Callable[[TreeProgress], None] | None = None,
    ) -> Explanation:
        s = self.settings
        train, validation = split_windows(record.train, s.validation_every)
        nodes: list[TreeNode] = [n.model_copy() for n in progress.nodes] if progress else []

        def checkpoint(finished: bool = False) -> None:
            if save is not None:
                save(TreeProgress(latent=record.latent, nodes=nodes, finished=finished))

        if not any(n.depth == 1 for n in nodes):
            roots = self._nodes(
                0, [None] * s.n_roots, 1, self.root_requests(record), tree_prompts.parse_root
            )
            self._score(roots, train, record)
            nodes += roots
            checkpoint()
        for depth in range(2, s.depth + 1):
            if any(n.train_score is not None and n.train_score >= s.stop_score for n in nodes):
                break
            if any(n.depth == depth for n in nodes):
                continue
            parents = self.beam(nodes, depth - 1)
            if not parents:
                break
            requests = [r for p in parents for r in self.child_requests(p)]
            parent_ids = [p.id for p in parents for _ in range(s.n_children)]
            children = self._nodes(
                len(nodes), parent_ids, depth, requests, tree_prompts.parse_revision
            )
            self._score(children, train, record)
            nodes += children
            checkpoint()
        kept = [n for d in range(1, s.depth + 1) for n in self.beam(nodes, d)]
        self._validate(kept, validation)
        checkpoint(finished=True)
        return self.result(record.latent, nodes)

    @staticmethod
    def result(latent: int, nodes: list[TreeNode]) -> Explanation:
        """The best validated node by validation score (then train score, then id)."""
        candidates = [n for n in nodes if n.text and n.validated]
        if not candidates:
            errors = "; ".join(sorted({n.error or "" for n in nodes if n.error}))
            return Explanation(
                latent=latent,
                text=None,
                error=f"no readable explanation in the tree ({errors})",
                error_kind="unparseable_answer",
                tree=nodes,
                cost=ExplanationCost.total(n.cost for n in nodes),
            )
        best = min(
            candidates,
            key=lambda n: (
                n.validation_score is None,
                -(n.validation_score or 0),
                n.train_score is None,
                -(n.train_score or 0),
                n.id,
            ),
        )
        cost = ExplanationCost.total(n.cost for n in nodes)
        return Explanation(latent=latent, text=best.text, raw=best.raw, tree=nodes, cost=cost)
