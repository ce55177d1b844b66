"""The one per-SAE runner every eval uses.

For each SAE spec: load -> check it fits the model -> reuse a stored result if it was made
from the same SAE weights and settings (unless ``force``) -> seed -> run the eval -> save a
typed output with provenance -> free memory. The model is loaded once, when its weights are
first needed (:class:`~sae_interp.models.lazy.LazyModel`), and shared. In batch
mode (``--llm-batch``) this runs in passes between batches (:mod:`sae_interp.llm.batch`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import torch
import transformer_lens
from pydantic import BaseModel, Field
from transformer_lens import HookedTransformer

import sae_interp
from sae_interp.activations.latents import latent_caches_for
from sae_interp.base.errors import SpecError
from sae_interp.base.paths import slugify
from sae_interp.base.registry import Registry
from sae_interp.base.torch_utils import free_memory, resolve_device, seed_everything, str_to_dtype
from sae_interp.distributed import current_executor
from sae_interp.distributed.executors import EXECUTORS
from sae_interp.distributed.shards import Stage, current_stage
from sae_interp.framework.config import BaseEvalConfig
from sae_interp.framework.failures import check_failures
from sae_interp.framework.output import BaseEvalOutput, Provenance, utc_now
from sae_interp.framework.preflight import check_latent_ids, preflight
from sae_interp.llm.batch.run import active_batch, run_in_batches
from sae_interp.llm.errors import AnswersPending
from sae_interp.models.lazy import LazyModel
from sae_interp.saes import BaseSAE, as_sae, check_sae_fits, load_sae
from sae_interp.saes.base import sae_fingerprint
from sae_interp.saes.loading import needs_model_weights

logger = logging.getLogger(__name__)

ConfigT = TypeVar("ConfigT", bound=BaseEvalConfig)
OutputT = TypeVar("OutputT", bound=BaseEvalOutput[Any, Any, Any])


@dataclass
class EvalContext(Generic[ConfigT]):
    config: ConfigT
    lazy_model: LazyModel  # the model, its weights loaded on first use of ``model``
    sae: BaseSAE
    sae_spec: str
    device: torch.device
    work_dir: Path  # per-SAE artifacts (records, checkpoints)
    resources: Any = None  # what the eval's ``resources`` context manager yielded

    @property
    def model(self) -> HookedTransformer:
        """The model with its weights (loaded now if they were not)."""
        return self.lazy_model.get()

    @property
    def tokenizer(self) -> Any:
        """The model's tokenizer (no weights loaded for it)."""
        return self.lazy_model.tokenizer


@dataclass
class EvalResult:
    """What an eval's ``run`` returns for one SAE; the runner turns it into the result file."""

    metrics: BaseModel
    details: list[Any] = field(default_factory=list)
    unstructured: dict[str, Any] | None = None
    failures: dict[str, int] = field(default_factory=dict)  # unfinished latents by kind
    n_ok: int | None = None  # latents whose LLM work succeeded (None: not counted)
    # further result files of the same run, written by the runner after this one: the
    # random-SAE arm, simulation's compared variants, the sub-evals of ``evals.all``
    extra: list[ExtraResult] = field(default_factory=list)


@dataclass
class ExtraResult:
    """A result file that a run makes besides its own. ``definition`` and ``ctx``: the eval
    and the context it ran in (e.g. the random SAE in place of the SAE); ``path``: where it
    goes, by default where a run of ``definition`` on ``ctx.sae_spec`` would write it."""

    definition: EvalDefinition[Any, Any]
    ctx: EvalContext[Any]
    result: EvalResult
    path: Path | None = None


class LLMPlan(BaseModel):
    """What a run would ask of the LLM, estimated without calling it."""

    eval_type_id: str
    sae_spec: str
    llm: str
    calls: int
    prompt_tokens: int = Field(description="Estimated at ~4 characters per token.")
    max_completion_tokens: int = Field(description="Upper bound: every answer at max_tokens.")
    estimated_cost_usd: float | None = Field(description="None when the model has no price.")
    notes: str = ""


@dataclass(frozen=True)
class CompareSpec:
    """How ``sae-interp compare`` reads the units of two results of one eval.

    ``latent_metrics``: one latent's headline metrics from one of its per-latent details
    (None when that latent has none). When the units are not latents: ``units`` gives the
    (unit key, metrics with pooled fields) of a result, e.g. sparse probing's datasets,
    ``unit`` names them, and ``pairing`` says why two results cannot be paired unit by unit
    (None when they can, even for two SAEs). Latents are paired only within one SAE.
    """

    latent_metrics: Callable[[Any], BaseModel | None] | None = None
    units: Callable[[Any], list[tuple[Any, BaseModel]]] | None = None
    unit: str = "latent"
    pairing: Callable[[Any, Any], str | None] | None = None


@dataclass(frozen=True)
class EvalDefinition(Generic[ConfigT, OutputT]):
    """Everything the runner, the command line, ``evals.all``, ``compare`` and the report
    need to know of one eval; the one descriptor of an eval, registered in :data:`EVALS`."""

    eval_type_id: str
    config_cls: type[ConfigT]
    output_cls: type[OutputT]
    run: Callable[[EvalContext[ConfigT]], EvalResult]
    # flat metric names shown in the results table; the first with an interval is the
    # eval's headline score on the report page
    table_columns: tuple[str, ...] = ()
    # Opened once per run, before the first SAE that needs running, and closed at the end
    # (e.g. an LLM service with a local server); shared by all SAEs.
    resources: Callable[[ConfigT], AbstractContextManager[Any]] | None = None
    # Estimates the LLM calls of a run on one SAE without making them (``--dry-run``).
    plan: Callable[[EvalContext[ConfigT]], LLMPlan] | None = None
    # What ``sae-interp compare`` tests unit by unit (nothing: the eval cannot be compared).
    compare: CompareSpec | None = None
    # The results table printed after a run, when not the default one row per SAE of
    # ``table_columns`` (e.g. ``evals.all``: one row per score, its controls side by side).
    table: Callable[[Sequence[BaseEvalOutput[Any, Any, Any]]], str] | None = None
    # Text that replaces the run when the config asks for it (sparse probing's
    # ``--list-datasets``): printed by every command line, from flags or ``--config``, before
    # any model loads; None runs the eval.
    info: Callable[[ConfigT], str | None] | None = None
    # The explain-and-score part of an explanation-based eval (a
    # :class:`~sae_interp.evals.common.ScoredEval`: its scorer, per-latent result class and
    # summary); None for the evals with a run of their own. ``evals.all`` runs the evals
    # that have one on shared latents and explanations.
    scored: Any = None
    # True for an eval that ``evals.all`` may run whole on the same model and SAE
    # (intervention, agentic, sparse probing).
    runs_whole_in_all: bool = False
    # One stage of a latent-sharded run (``prepare``, ``explain`` or ``score``) on the shard
    # :func:`~sae_interp.distributed.shards.current_shard` names, storing per-latent records
    # only; the ``merge`` stage is ``run``. None: the eval runs whole on every executor.
    shard: Callable[[EvalContext[ConfigT], Stage], None] | None = None
    # Whether a stage of a sharded run computes with the model's weights (a GPU where the
    # cluster has one); the others only read records and ask a judge (a CPU).
    stage_uses_model: Callable[[ConfigT, Stage], bool] = lambda config, stage: True


EVALS: Registry[EvalDefinition[Any, Any]] = Registry("eval")


def work_dir(config: BaseEvalConfig, eval_type_id: str, sae_spec: str) -> Path:
    """Per-SAE artifacts directory of an eval (records, checkpoints)."""
    return Path(config.output_dir) / eval_type_id / f"{slugify(config.model)}__{slugify(sae_spec)}"


def result_path(config: BaseEvalConfig, eval_type_id: str, sae_spec: str) -> Path:
    """The JSON result of one eval on one SAE."""
    stem = work_dir(config, eval_type_id, sae_spec)
    return stem.parent / f"{stem.name}.json"


def run_per_sae(
    definition: EvalDefinition[ConfigT, OutputT],
    config: ConfigT,
    *,
    model: HookedTransformer | None = None,
    saes: Mapping[str, object] | None = None,
) -> list[OutputT]:
    """Run ``definition`` on every SAE in ``config.saes``.

    ``model`` and ``saes`` (spec -> SAE object, sae-lens SAEs accepted) let code and
    notebooks pass objects they already hold instead of specs to load.
    """
    device = resolve_device(config.device)
    preflight(config, given=saes or {}, model_given=model is not None)  # before any load
    if current_executor() == "local":  # the driver: the executor places the work
        executor = EXECUTORS.get(config.executor)
        if executor.in_process:
            return executor.run(
                definition, config, lambda d, c: _run_here(d, c, model, saes, device)
            )
        if saes or model is not None:
            raise SpecError(
                f"--executor {config.executor} loads the model and each SAE in its workers: "
                "give specs, not objects"
            )
        return executor.run(definition, config, run_per_sae)  # its workers call it
    return _run_here(definition, config, model, saes, device)


def _run_here(
    definition: EvalDefinition[ConfigT, OutputT],
    config: ConfigT,
    model: HookedTransformer | None,
    saes: Mapping[str, object] | None,
    device: torch.device,
) -> list[OutputT]:
    """Every SAE of ``config`` in this process (in batch mode, in passes between batches)."""
    lazy = _lazy(config, model, device)
    llm = getattr(config, "llm", None)
    if llm is None or not llm.batched():
        return _run_pass(definition, config, lazy, saes, device)
    return run_in_batches(  # one model over every pass
        llm.batch_options(),
        Path(config.output_dir),
        lambda: _run_pass(definition, config, lazy, saes, device),
    )


def _lazy(
    config: BaseEvalConfig, model: HookedTransformer | None, device: torch.device
) -> LazyModel:
    """The model of a run: ``model`` if given, else ``config.model`` loaded on first use."""
    if model is not None:
        return LazyModel.of(model, config.model)
    return LazyModel(config.model, device, config.dtype)


def _run_pass(
    definition: EvalDefinition[ConfigT, OutputT],
    config: ConfigT,
    model: LazyModel,
    saes: Mapping[str, object] | None,
    device: torch.device,
) -> list[OutputT]:
    """One run over every SAE (in batch mode, one pass: an SAE whose answers await a batch
    is left unsaved and the next one goes on)."""
    outputs: list[OutputT] = []
    loaded: dict[str, BaseSAE] = {}
    if type(config).collects_latents and len(config.saes) > 1:
        loaded = _collect_together(definition, config, model, saes, device)
    with ExitStack() as stack:
        resources: list[Any] = []
        for spec in config.saes:
            path = result_path(config, definition.eval_type_id, spec)
            sae = loaded.pop(spec) if spec in loaded else _load(spec, saes, model, device, config)
            stored = _reusable(definition, config, spec, sae, log=True)
            if stored is not None:
                outputs.append(stored)
                continue
            if definition.resources is not None and not resources:
                resources.append(stack.enter_context(definition.resources(config)))
            try:
                output = _run_one(
                    definition,
                    config,
                    model,
                    spec,
                    sae,
                    device,
                    path,
                    resources[0] if resources else None,
                )
            except AnswersPending:
                output = None
                logger.info("%s on %s: waiting for a batch", definition.eval_type_id, spec)
            if output is not None:
                outputs.append(output)
            del sae
    return outputs


def _reusable(
    definition: EvalDefinition[Any, OutputT], config: Any, spec: str, sae: BaseSAE, log: bool
) -> OutputT | None:
    """The stored result of ``definition`` on ``spec`` if it may stand in for a run (made
    from the same weights and settings, and not ``force``), else None (``log``: say why)."""
    path = result_path(config, definition.eval_type_id, spec)
    if not path.exists() or config.force:
        return None
    try:
        stored = definition.output_cls.load(path)
    except ValueError as err:  # pydantic's ValidationError is a ValueError
        stored, unreadable = None, f"it cannot be read ({type(err).__name__})"
    reason = (
        stale_reason(stored, config, sae_fingerprint(sae)) if stored is not None else unreadable
    )
    if reason is None:
        if log:
            logger.info(
                "%s: result exists for %s, skipping (use --force)", definition.eval_type_id, spec
            )
        return stored
    if log:
        logger.warning(
            "%s: the stored result for %s is stale (%s); running again",
            definition.eval_type_id,
            spec,
            reason,
        )
    return None


def _collect_together(
    definition: EvalDefinition[Any, Any],
    config: Any,
    model: LazyModel,
    saes: Mapping[str, object] | None,
    device: torch.device,
) -> dict[str, BaseSAE]:
    """The latent caches of the SAEs that will run, collected before the first runs: one
    forward pass per hook feeds every SAE at that hook (all of them in memory at once).
    Returns those SAEs by spec, for their runs."""
    todo: dict[str, BaseSAE] = {}
    for spec in config.saes:
        sae = _load(spec, saes, model, device, config)
        if _reusable(definition, config, spec, sae, log=False) is None:
            todo[spec] = sae
    if len(todo) > 1:
        latent_caches_for(model, list(todo.values()), config.corpus, config.n_tokens,
                          config.ctx_len, config.batch_size)  # fmt: skip
    return todo


def plan_per_sae(
    definition: EvalDefinition[ConfigT, Any],
    config: ConfigT,
    *,
    model: HookedTransformer | None = None,
    saes: Mapping[str, object] | None = None,
) -> list[LLMPlan]:
    """The ``--dry-run`` counterpart of :func:`run_per_sae`: no LLM call, nothing saved."""
    if definition.plan is None:
        logger.info("%s makes no LLM calls; nothing to plan", definition.eval_type_id)
        return []
    device = resolve_device(config.device)
    preflight(config, given=saes or {}, model_given=model is not None)
    lazy = _lazy(config, model, device)
    plans = []
    for spec in config.saes:
        sae = _load(spec, saes, lazy, device, config)
        ctx = EvalContext(
            config, lazy, sae, spec, device, work_dir(config, definition.eval_type_id, spec)
        )
        plans.append(definition.plan(ctx))
    return plans


def _load(
    spec: str,
    saes: Mapping[str, object] | None,
    model: LazyModel,
    device: torch.device,
    config: BaseEvalConfig,
) -> BaseSAE:
    """``spec``'s SAE, checked against the model (its weights loaded only for an SAE
    built from them, e.g. a planted one: the fit check runs on its shapes)."""
    if saes is not None and spec in saes:
        sae = as_sae(saes[spec]).to(device=device, dtype=str_to_dtype(config.dtype))
    else:
        subject = model.get() if needs_model_weights(spec) else model.weightless()
        sae = load_sae(spec, model=subject, device=device, dtype=config.dtype)
    check_sae_fits(model.weightless(), sae, config.ctx_len)
    check_latent_ids(getattr(config, "latents", None), sae.cfg.d_sae, spec)
    return sae


def build_output(
    definition: EvalDefinition[Any, OutputT],
    ctx: EvalContext[Any],
    result: EvalResult,
    started: datetime,
) -> OutputT:
    """The typed output of one eval on one SAE, with provenance."""
    config = ctx.config
    return definition.output_cls(
        eval_type_id=definition.eval_type_id,
        provenance=Provenance(
            sae_interp_version=sae_interp.__version__,
            torch_version=torch.__version__,
            transformer_lens_version=getattr(transformer_lens, "__version__", "unknown"),
            model_spec=config.model,
            model_name=ctx.lazy_model.cfg.model_name,
            sae_spec=ctx.sae_spec,
            sae_cfg=ctx.sae.describe(),
            hook_name=ctx.sae.cfg.hook_name,
            eval_type_id=definition.eval_type_id,
            seed=config.seed,
            device=str(ctx.device),
            started_at=started,
            finished_at=utc_now(),
            sae_fingerprint=sae_fingerprint(ctx.sae),
            executor=current_executor(),
        ),
        eval_config=config,
        eval_result_metrics=result.metrics,
        eval_result_details=result.details,
        eval_result_unstructured=result.unstructured,
        failures=result.failures,
    )


def save_extra(result: EvalResult, started: datetime) -> None:
    """Write the further result files of ``result`` (and theirs, for ``evals.all``)."""
    for extra in result.extra:
        path = extra.path or result_path(
            extra.ctx.config, extra.definition.eval_type_id, extra.ctx.sae_spec
        )
        build_output(extra.definition, extra.ctx, extra.result, started).save(path)
        logger.info("%s: wrote %s", extra.definition.eval_type_id, path)
        save_extra(extra.result, started)


def stale_reason(
    stored: BaseEvalOutput[Any, Any, Any], config: BaseEvalConfig, fingerprint: str
) -> str | None:
    """Why a stored result may not stand in for a run with ``config`` on an SAE with this
    fingerprint; None when it may."""
    if stored.failures:
        return f"{sum(stored.failures.values())} latents failed last time; retrying them"
    recorded = stored.provenance.sae_fingerprint
    if recorded is None:
        return "it records no SAE fingerprint"
    if recorded != fingerprint:
        return "the SAE's weights or config changed"
    old = stored.eval_config.result_settings()
    new = config.result_settings()
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    if changed:
        return f"settings changed: {', '.join(changed)}"
    return None


def _run_one(
    definition: EvalDefinition[ConfigT, OutputT],
    config: ConfigT,
    model: LazyModel,
    spec: str,
    sae: BaseSAE,
    device: torch.device,
    path: Path,
    resources: Any,
) -> OutputT | None:
    """The output of ``definition`` on one SAE, saved; None when its answers await a batch
    (batch mode: nothing is saved) or in a shard's stage of a sharded run."""
    seed_everything(config.seed)
    started = utc_now()
    logger.info("%s: running on %s", definition.eval_type_id, spec)
    ctx = EvalContext(
        config, model, sae, spec, device, work_dir(config, definition.eval_type_id, spec), resources
    )
    stage = current_stage()
    if stage is not None and stage is not Stage.merge:
        assert definition.shard is not None, f"{definition.eval_type_id} has no latent shards"
        definition.shard(ctx, stage)  # per-latent records only: the merge stage pools them
        return None
    batch = active_batch()
    deferred_before = batch.n_pending() if batch is not None else 0
    result = definition.run(ctx)
    if batch is not None and (deferred := batch.n_pending() - deferred_before):
        logger.info(
            "%s on %s: %d answers await a batch; the result is written once they are in",
            definition.eval_type_id,
            spec,
            deferred,
        )
        return None
    output = build_output(definition, ctx, result, started)
    output.save(path)
    logger.info("%s: wrote %s", definition.eval_type_id, path)
    save_extra(result, started)
    check_failures(definition.eval_type_id, spec, result.failures, result.n_ok, path)
    del ctx
    free_memory()
    return output
