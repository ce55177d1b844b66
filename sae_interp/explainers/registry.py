"""The explainers (``one_shot``, ``contrastive``, ``structured``, ``tree``:
``--explainer-kind`` in every explanation-based eval) and the one place where a latent gets its explanation.

Each kind says which settings shape its explanations, how to explain records (storing each
explanation as it is made) and which LLM calls that would take (dry-run estimates). The
settings key the kind's explanation store under ``<output_dir>/explanations/``, so every
eval on the same latents shares it and explanations of other kinds and settings coexist.

Two functions serve the evals: :func:`explanations` (given ones as they are, stored ones
reused, the rest made and stored) and :func:`planned_requests` (what that would cost).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from sae_interp.activations.records import LatentRecord
from sae_interp.base.paths import slugify, stable_hash
from sae_interp.base.registry import Registry
from sae_interp.explainers import contrastive, one_shot, structured
from sae_interp.explainers.explanations import Explanation, ExplanationStore
from sae_interp.explainers.tree import TreeExplainer, split_windows
from sae_interp.explainers.tree_state import TreeFeedback, TreeNode, TreeProgress
from sae_interp.framework.latent_store import LatentStore
from sae_interp.llm.errors import AnswersPending, FailureKind
from sae_interp.llm.types import LLMRequest

logger = logging.getLogger(__name__)


@dataclass
class ExplainerEnv:
    """What an explainer gets: the eval config (``explainer``, ``structured``, ``tree``,
    ``simulator``, ``llm``, ``seed``), the tokenizer, and the shared resources (None when
    only planning)."""

    config: Any
    tokenizer: Any
    resources: Any | None = None

    @property
    def service(self) -> Any:
        if self.resources is None:
            raise RuntimeError("no LLM service: this explainer was set up for planning only")
        return self.resources.service

    def simulator(self) -> Any:
        from sae_interp.scorers.simulation import simulator_for

        cfg = self.config
        return simulator_for(cfg.simulator, cfg.llm, self.tokenizer, self.resources)


@dataclass(frozen=True)
class ExplainerKind:
    """One explainer. ``settings``: the config values that shape its explanations (they key
    its store); ``explain``: explains records and puts each explanation, success or
    failure, in the store; ``plan``: the LLM requests explaining one record would make."""

    settings: Callable[[Any], Any]
    explain: Callable[[ExplainerEnv, Sequence[LatentRecord], ExplanationStore], None]
    plan: Callable[[ExplainerEnv, LatentRecord], list[LLMRequest]]
    # hard negatives per latent the explainer is shown (``LatentRecord.contrast``)
    n_contrast: Callable[[Any], int] = lambda cfg: 0


EXPLAINERS: Registry[ExplainerKind] = Registry("explainer")


def _one_shot_explain(
    env: ExplainerEnv, records: Sequence[LatentRecord], store: ExplanationStore
) -> None:
    for item in one_shot.explain(records, env.tokenizer, env.service, env.config.explainer):
        store.put(item)


def _contrastive_explain(
    env: ExplainerEnv, records: Sequence[LatentRecord], store: ExplanationStore
) -> None:
    settings = env.config.explainer
    for item in one_shot.explain(
        records, env.tokenizer, env.service, settings, build=contrastive.build_request
    ):
        store.put(item)


def _structured_explain(
    env: ExplainerEnv, records: Sequence[LatentRecord], store: ExplanationStore
) -> None:
    cfg = env.config
    usable = [r for r in records if r.train]
    for item in structured.explain(
        usable, env.tokenizer, env.service, cfg.explainer, cfg.structured
    ):
        store.put(item)


def tree_progress_path(store_path: Path) -> Path:
    """Where the tree explainer keeps its searches in progress, beside the store at
    ``store_path``."""
    return store_path.with_name(store_path.stem + ".progress.jsonl")


def _tree_explain(
    env: ExplainerEnv, records: Sequence[LatentRecord], store: ExplanationStore
) -> None:
    cfg = env.config
    simulator = env.simulator()
    explainer = TreeExplainer(
        cfg.tree, cfg.explainer, env.tokenizer, env.service, simulator.simulate, cfg.seed
    )
    progress = LatentStore(tree_progress_path(store.path), TreeProgress)
    for record in tqdm(records, desc="explaining (tree)", leave=False):
        if not record.train:
            continue
        saved = progress.get(record.latent)
        if saved is not None and any(n.error for n in saved.nodes):
            saved = None  # a failed call: grow the tree again (the cache answers the rest)
        store.put(explainer.explain(record, saved, progress.put))


def _tree_plan(env: ExplainerEnv, record: LatentRecord) -> list[LLMRequest]:
    """Upper estimate: every level explored (no early stop, every reply readable), every
    node simulated on the tree-train windows, the beam of every level on the validation
    windows."""
    cfg = env.config
    t = cfg.tree
    sizes = [t.n_roots]
    for _ in range(t.depth - 1):
        sizes.append(min(t.width, sizes[-1]) * t.n_children)
    explainer = TreeExplainer(t, cfg.explainer, env.tokenizer, None, _no_simulation, cfg.seed)
    train, validation = split_windows(record.train, t.validation_every)
    placeholder = " ".join(["word"] * 12)
    shown = train[0] if train else None
    feedback = TreeFeedback(
        seq=0,
        start=0,
        tokens=shown.str_tokens(env.tokenizer) if shown else [],
        predicted=[0.0] * (len(shown.tokens) if shown else 0),
        true=[0.0] * (len(shown.tokens) if shown else 0),
        score_without=None,
    )
    node = TreeNode(
        id=0, parent=None, depth=1, text=placeholder, train_score=0.5, feedback=feedback
    )
    revision = explainer.child_requests(node)[:1]
    simulator = env.simulator()
    per_train = simulator.planned_requests(placeholder, train)
    per_validation = simulator.planned_requests(placeholder, validation)
    return (
        explainer.root_requests(record)
        + revision * sum(sizes[1:])
        + per_train * sum(sizes)
        + per_validation * sum(min(t.width, n) for n in sizes)
    )


def _no_simulation(pairs: Sequence[Any]) -> list[Any]:
    raise RuntimeError("planning only")


EXPLAINERS.register(
    "one_shot",
    ExplainerKind(
        settings=lambda cfg: cfg.explainer.model_dump(),
        explain=_one_shot_explain,
        plan=lambda env, r: [one_shot.build_request(r, env.tokenizer, env.config.explainer)],
    ),
)
EXPLAINERS.register(
    "contrastive",
    ExplainerKind(
        # the contrast windows are similar negatives: the window index's embedder shapes them
        settings=lambda cfg: [cfg.explainer.model_dump(), cfg.sampling.similar_embedder],
        explain=_contrastive_explain,
        plan=lambda env, r: [contrastive.build_request(r, env.tokenizer, env.config.explainer)],
        n_contrast=lambda cfg: contrastive.n_contrast(cfg.explainer, cfg.sampling.n_train),
    ),
)
EXPLAINERS.register(
    "structured",
    ExplainerKind(
        settings=lambda cfg: [cfg.explainer.model_dump(), cfg.structured.model_dump()],
        explain=_structured_explain,
        plan=lambda env, r: [
            structured.build_request(r, env.tokenizer, env.config.explainer, env.config.structured)
        ],
    ),
)
EXPLAINERS.register(
    "tree",
    ExplainerKind(
        settings=lambda cfg: [
            cfg.explainer.model_dump(),
            cfg.tree.model_dump(),
            cfg.simulator.model_dump(),
        ],
        explain=_tree_explain,
        plan=_tree_plan,
    ),
)


NEGATIVE_FIELDS = ("n_negatives", "negative_strategy", "similar_embedder", "n_neighbour_latents")


def store_path(cfg: Any, sae_spec: str, sae_fingerprint: str) -> Path:
    """Where ``cfg``'s explainer keeps its explanations of the SAE ``sae_spec`` (whose
    weights hash to ``sae_fingerprint``): one JSONL file per kind and key. Negatives are
    drawn after the train windows and never shown to an explainer, so their settings are
    left out of the key: runs that differ only in negatives share explanations."""
    kind = cfg.explainer_kind
    defaults = type(cfg.sampling)()
    sampling = cfg.sampling.model_copy(
        update={name: getattr(defaults, name) for name in NEGATIVE_FIELDS}
    )
    key = stable_hash(
        [
            sae_fingerprint,
            sampling.model_dump(),
            EXPLAINERS.get(kind).settings(cfg),
            cfg.llm.identity(),
            cfg.seed,
            kind,
        ]
    )[:16]
    folder = f"{slugify(cfg.model)}__{slugify(sae_spec)}"
    return Path(cfg.output_dir) / "explanations" / folder / f"{kind}_{key}.jsonl"


EXPLAINER_SOURCE = "explainer"  # ``Explanation.source`` of one made here


def explanations(
    cfg: Any,
    records: Sequence[LatentRecord],
    tokenizer: Any,
    resources: Any,
    store: ExplanationStore,
    given: Mapping[int, Explanation] | None = None,
    needed: bool = True,
) -> dict[int, Explanation]:
    """The explanation of every record.

    ``cfg``: the eval config (its ``explainer_kind`` and the settings of that kind);
    ``resources``: the run's :class:`~sae_interp.evals.common.EvalResources` (its LLM
    service); ``store``: where explanations of this SAE and these settings are kept;
    ``given``: explanations read from ``--explanations``, used as they are (they never
    enter the store); ``needed``: False for a scorer that reads no explanation, which gets
    empty texts and no explainer call.

    Stored explanations are reused; the missing ones are made now and stored when they
    succeed. A failure is returned with its kind (the caller counts it) and asked again on
    the next run. In batch mode, raises :class:`~sae_interp.llm.errors.AnswersPending` when
    some explanations await a batch.
    """
    if not needed:
        return {r.latent: Explanation(latent=r.latent, text="") for r in records}
    given = given or {}
    missing = [r for r in records if r.latent not in given and r.latent not in store]
    if missing:
        logger.info(
            "explaining %d latents with %s (%d reused)",
            len(missing),
            cfg.explainer_kind,
            len(records) - len(missing),
        )
        EXPLAINERS.get(cfg.explainer_kind).explain(
            ExplainerEnv(cfg, tokenizer, resources), missing, store
        )
    out: dict[int, Explanation] = {}
    for r in records:
        if r.latent in given:
            out[r.latent] = given[r.latent]
        elif (found := store.get(r.latent) or store.failure(r.latent)) is not None:
            out[r.latent] = found.model_copy(update={"source": EXPLAINER_SOURCE})
    awaited = sum(e.error_kind == FailureKind.batch_pending.value for e in out.values())
    if awaited:
        # batch mode: scoring, and the control that pairs explanations, wait for them all
        raise AnswersPending(f"{awaited} explanations await a batch")
    return out


def contrast_windows(cfg: Any) -> int:
    """Hard negatives per latent that ``cfg``'s explainer is shown (0 for most kinds)."""
    kind = getattr(cfg, "explainer_kind", None)
    return EXPLAINERS.get(kind).n_contrast(cfg) if kind is not None else 0


def planned_requests(cfg: Any, record: LatentRecord, tokenizer: Any) -> list[LLMRequest]:
    """The LLM requests explaining ``record`` with ``cfg``'s explainer would make."""
    return EXPLAINERS.get(cfg.explainer_kind).plan(ExplainerEnv(cfg, tokenizer), record)
