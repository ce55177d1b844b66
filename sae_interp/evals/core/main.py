"""The core eval: sparsity, reconstruction and downstream-loss metrics of an SAE."""

from __future__ import annotations

import logging
from typing import Any

import torch
from tqdm.auto import tqdm

from sae_interp.activations.collect import iter_latent_batches, special_token_ids, valid_token_mask
from sae_interp.core.runner import EVALS, EvalContext, EvalDefinition, EvalResult, run_per_sae
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
from sae_interp.evals.core.metrics import ReconstructionAccumulator, ce_loss_recovered
from sae_interp.models.hooks import hooks_attached

logger = logging.getLogger(__name__)


@torch.inference_mode()
def _reconstruction(
    ctx: EvalContext[CoreEvalConfig], tokens: torch.Tensor
) -> ReconstructionAccumulator:
    acc = ReconstructionAccumulator(ctx.sae.cfg.d_sae)
    for batch in iter_latent_batches(
        ctx.model, ctx.sae, tokens, batch_size=ctx.config.batch_size, desc="core: reconstruction"
    ):
        valid = batch.mask_BL
        x = batch.acts_BLD[valid]
        f = batch.latents_BLF[valid]
        acc.update(x, ctx.sae.decode(f), f)
    return acc


@torch.inference_mode()
def _model_behaviour(
    ctx: EvalContext[CoreEvalConfig], tokens: torch.Tensor
) -> ModelBehaviourMetrics:
    model, sae = ctx.model, ctx.sae
    hook = sae.cfg.hook_name
    special = special_token_ids(model.tokenizer)
    totals = {"clean": 0.0, "sae": 0.0, "zero": 0.0, "kl": 0.0}
    n_targets = 0
    for start in tqdm(
        range(0, tokens.shape[0], ctx.config.batch_size), desc="core: CE loss", leave=False
    ):
        batch = tokens[start : start + ctx.config.batch_size].to(model.cfg.device)
        valid = valid_token_mask(batch, special)
        target_ok = valid[:, 1:]

        def splice(act: torch.Tensor, hook: Any, valid: torch.Tensor = valid) -> torch.Tensor:
            recon = sae(act.to(sae.dtype)).to(act.dtype)
            return torch.where(valid.unsqueeze(-1), recon, act)

        def zero(act: torch.Tensor, hook: Any, valid: torch.Tensor = valid) -> torch.Tensor:
            return torch.where(valid.unsqueeze(-1), torch.zeros_like(act), act)

        logits_clean = model(batch)
        with hooks_attached(model, [(hook, splice)]):
            logits_sae = model(batch)
        with hooks_attached(model, [(hook, zero)]):
            logits_zero = model(batch)
        # one sequence at a time: a [batch, ctx, 262k] log-softmax of three runs would need
        # several GB more than the logits themselves
        for row in range(batch.shape[0]):
            ok = target_ok[row]
            logps = {
                name: torch.log_softmax(logits[row, :-1].float(), dim=-1)
                for name, logits in (
                    ("clean", logits_clean),
                    ("sae", logits_sae),
                    ("zero", logits_zero),
                )
            }
            targets = batch[row, 1:, None]
            for name, logp in logps.items():
                totals[name] += float(-logp.gather(-1, targets).squeeze(-1)[ok].sum())
            kl = (logps["clean"].exp() * (logps["clean"] - logps["sae"])).sum(-1)
            totals["kl"] += float(kl[ok].sum())
        del logits_clean, logits_sae, logits_zero
        n_targets += int(target_ok.sum())
    mean = {k: v / max(n_targets, 1) for k, v in totals.items()}
    return ModelBehaviourMetrics(
        ce_loss_clean=mean["clean"],
        ce_loss_with_sae=mean["sae"],
        ce_loss_zero_ablation=mean["zero"],
        ce_loss_recovered=ce_loss_recovered(mean["clean"], mean["sae"], mean["zero"]),
        kl_div_with_sae=mean["kl"],
        n_tokens=n_targets,
    )


def run_core(ctx: EvalContext[CoreEvalConfig]) -> EvalResult:
    cfg = ctx.config
    tokens = load_corpus(cfg.corpus, ctx.model.tokenizer, cfg.n_tokens, cfg.ctx_len)
    acc = _reconstruction(ctx, tokens)
    freq = acc.frequency()
    n_dead = int((acc.count == 0).sum())
    n_dense = int((freq > cfg.dense_threshold).sum())
    behaviour = None
    if cfg.n_ce_tokens > 0:
        behaviour = _model_behaviour(ctx, tokens[: -(-cfg.n_ce_tokens // cfg.ctx_len)])
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
        table_columns=(
            "sparsity.l0",
            "sparsity.dead_fraction",
            "sparsity.dense_fraction",
            "reconstruction.explained_variance",
            "reconstruction.mse",
            "reconstruction.cosine_similarity",
            "model_behaviour.ce_loss_recovered",
            "model_behaviour.ce_loss_with_sae",
            "model_behaviour.ce_loss_clean",
        ),
    ),
)


def run_eval(config: CoreEvalConfig | None = None, **kwargs: Any) -> list[CoreEvalOutput]:
    """Run the core eval on every SAE of ``config`` (``kwargs``: ``model=``, ``saes=``
    objects to use instead of loading specs)."""
    return run_per_sae(DEFINITION, config or CoreEvalConfig(), **kwargs)  # type: ignore[return-value]
