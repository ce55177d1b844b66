"""The core eval: sparsity, reconstruction and downstream-loss metrics of an SAE."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from sae_interp.activations.collect import iter_latent_batches, special_token_ids, valid_token_mask
from sae_interp.data import load_corpus
from sae_interp.evals.core.eval_config import CoreEvalConfig
from sae_interp.evals.core.eval_output import (
    CoreEvalOutput,
    CoreMetrics,
    LatentCoreStats,
    ModelBehaviourMetrics,
    ReconstructionMetrics,
    SparsityMetrics,
)
from sae_interp.evals.core.metrics import (
    ReconstructionAccumulator,
    SequenceTotals,
    ce_loss_recovered,
    ce_recovered_of_sums,
    explained_variance_of_sums,
    kl_of_sums,
    l0_of_sums,
)
from sae_interp.framework.runner import EVALS, EvalContext, EvalDefinition, EvalResult, run_per_sae
from sae_interp.models.hooks import hooks_attached
from sae_interp.stats import Estimate, bootstrap_statistic

logger = logging.getLogger(__name__)


@torch.inference_mode()
def _reconstruction(
    ctx: EvalContext[CoreEvalConfig], tokens: torch.Tensor
) -> tuple[ReconstructionAccumulator, SequenceTotals]:
    acc = ReconstructionAccumulator(ctx.sae.cfg.d_sae)
    per_seq = SequenceTotals()
    for batch in iter_latent_batches(
        ctx.model, ctx.sae, tokens, batch_size=ctx.config.batch_size, desc="core: reconstruction"
    ):
        valid = batch.mask_BL
        x_hat_BLD = ctx.sae.decode(batch.latents_BLF)
        acc.update(batch.acts_BLD[valid], x_hat_BLD[valid], batch.latents_BLF[valid])
        per_seq.update(batch.acts_BLD, x_hat_BLD, batch.latents_BLF, valid)
    return acc, per_seq


class ZeroAblationLosses(dict[tuple[str, int], list[float]]):
    """The loss of each sequence of a batch with the activations at a hook zeroed, by (hook,
    first sequence of the batch): the same for every SAE at that hook, so a run on several
    SAEs computes it once (the core eval's ``resources``, shared by the SAEs of a run)."""


@torch.inference_mode()
def _model_behaviour(
    ctx: EvalContext[CoreEvalConfig], tokens: torch.Tensor
) -> tuple[ModelBehaviourMetrics, dict[str, Estimate]]:
    model, sae = ctx.model, ctx.sae
    hook = sae.cfg.hook_name
    special = special_token_ids(model.tokenizer)
    known = ctx.resources if isinstance(ctx.resources, ZeroAblationLosses) else None
    per_seq: dict[str, list[float]] = {"clean": [], "sae": [], "zero": [], "kl": [], "n": []}
    for start in tqdm(
        range(0, tokens.shape[0], ctx.config.batch_size), desc="core: CE loss", leave=False
    ):
        zero_losses = known.get((hook, start)) if known is not None else None
        batch = tokens[start : start + ctx.config.batch_size].to(model.cfg.device)
        valid = valid_token_mask(batch, special)
        target_ok = valid[:, 1:]

        def splice(act: torch.Tensor, hook: Any, valid: torch.Tensor = valid) -> torch.Tensor:
            recon = sae(act.to(sae.dtype)).to(act.dtype)
            return torch.where(valid.unsqueeze(-1), recon, act)

        def zero(act: torch.Tensor, hook: Any, valid: torch.Tensor = valid) -> torch.Tensor:
            return torch.where(valid.unsqueeze(-1), torch.zeros_like(act), act)

        runs = {"clean": model(batch)}
        with hooks_attached(model, [(hook, splice)]):
            runs["sae"] = model(batch)
        if zero_losses is None:
            with hooks_attached(model, [(hook, zero)]):
                runs["zero"] = model(batch)
        else:
            per_seq["zero"] += zero_losses
        # one sequence at a time: a [batch, ctx, 262k] log-softmax of three runs would need
        # several GB more than the logits themselves
        for row in range(batch.shape[0]):
            ok = target_ok[row]
            logps = {
                name: torch.log_softmax(logits[row, :-1].float(), dim=-1)
                for name, logits in runs.items()
            }
            targets = batch[row, 1:, None]
            for name, logp in logps.items():
                per_seq[name].append(float(-logp.gather(-1, targets).squeeze(-1)[ok].sum()))
            kl = (logps["clean"].exp() * (logps["clean"] - logps["sae"])).sum(-1)
            per_seq["kl"].append(float(kl[ok].sum()))
            per_seq["n"].append(float(ok.sum()))
        if zero_losses is None and known is not None:
            known[hook, start] = per_seq["zero"][-batch.shape[0] :]
        del runs
    n_targets = int(sum(per_seq["n"]))
    mean = {k: sum(v) / max(n_targets, 1) for k, v in per_seq.items() if k != "n"}
    units = {k: np.asarray(v) for k, v in per_seq.items()}
    units = {k: v[units["n"] > 0] for k, v in units.items()}
    settings = ctx.config.intervals
    behaviour = ModelBehaviourMetrics(
        ce_loss_clean=mean["clean"],
        ce_loss_with_sae=mean["sae"],
        ce_loss_zero_ablation=mean["zero"],
        ce_loss_recovered=ce_loss_recovered(mean["clean"], mean["sae"], mean["zero"]),
        kl_div_with_sae=mean["kl"],
        n_tokens=n_targets,
    )
    intervals = {
        "ce_loss_recovered": bootstrap_statistic(units, ce_recovered_of_sums, settings),
        "kl_div_with_sae": bootstrap_statistic(units, kl_of_sums, settings),
    }
    return behaviour, intervals


def run_core(ctx: EvalContext[CoreEvalConfig]) -> EvalResult:
    cfg = ctx.config
    tokens = load_corpus(cfg.corpus, ctx.tokenizer, cfg.n_tokens, cfg.ctx_len)
    acc, per_seq = _reconstruction(ctx, tokens)
    units = per_seq.units()
    intervals = {
        "l0": bootstrap_statistic(units, l0_of_sums, cfg.intervals),
        "explained_variance": bootstrap_statistic(units, explained_variance_of_sums, cfg.intervals),
    }
    freq = acc.frequency()
    n_dead = int((acc.count == 0).sum())
    n_dense = int((freq > cfg.dense_threshold).sum())
    behaviour = None
    if cfg.n_ce_tokens > 0:
        behaviour, ce_intervals = _model_behaviour(
            ctx, tokens[: -(-cfg.n_ce_tokens // cfg.ctx_len)]
        )
        intervals.update(ce_intervals)
    metrics = CoreMetrics(
        sparsity=SparsityMetrics(
            l0=acc.l0_sum / acc.n,
            l1=acc.l1_sum / acc.n,
            dead_fraction=n_dead / acc.d_sae,
            dense_fraction=n_dense / acc.d_sae,
            n_dead=n_dead,
            n_dense=n_dense,
        ),
        reconstruction=ReconstructionMetrics(
            explained_variance=acc.explained_variance(),
            mse=acc.mse(),
            cosine_similarity=acc.cos_sum / acc.n,
            relative_norm=acc.norm_ratio_sum / acc.n,
        ),
        model_behaviour=behaviour,
        n_tokens=acc.n,
        intervals=intervals,
    )
    details = []
    if cfg.save_latent_stats:
        mean_active = acc.total / acc.count.clamp(min=1)
        details = [
            LatentCoreStats(
                latent=i,
                frequency=float(freq[i]),
                mean_activation=float(mean_active[i]),
                max_activation=float(acc.max[i]),
            )
            for i in range(acc.d_sae)
        ]
    return EvalResult(metrics=metrics, details=details)


DEFINITION = EVALS.register(
    "core",
    EvalDefinition(
        eval_type_id="core",
        config_cls=CoreEvalConfig,
        output_cls=CoreEvalOutput,
        run=run_core,
        resources=lambda cfg: contextlib.nullcontext(ZeroAblationLosses()),
        table_columns=(
            "sparsity.l0",
            "sparsity.dead_fraction",
            "sparsity.dense_fraction",
            "reconstruction.explained_variance",
            "reconstruction.mse",
            "reconstruction.cosine_similarity",
            "intervals.explained_variance",
            "model_behaviour.ce_loss_recovered",
            "intervals.ce_loss_recovered",
            "model_behaviour.ce_loss_with_sae",
            "model_behaviour.ce_loss_clean",
        ),
    ),
)


def run_eval(config: CoreEvalConfig | None = None, **kwargs: Any) -> list[CoreEvalOutput]:
    """Run the core eval on every SAE of ``config`` (``kwargs``: ``model=``, ``saes=``
    objects to use instead of loading specs)."""
    return run_per_sae(DEFINITION, config or CoreEvalConfig(), **kwargs)
