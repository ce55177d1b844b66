"""The sparse probing eval: k-sparse probes on SAE latents against probes on the raw
activations, on the sae-probes binary classification tasks."""

from __future__ import annotations

import logging
from typing import Any

from sae_interp.evals.sparse_probing.eval_config import SparseProbingEvalConfig
from sae_interp.evals.sparse_probing.eval_output import (
    SparseProbingEvalOutput,
    SparseProbingMetrics,
)
from sae_interp.framework.runner import (
    EVALS,
    CompareSpec,
    EvalContext,
    EvalDefinition,
    EvalResult,
    run_per_sae,
)
from sae_interp.probing.datasets import dataset_table
from sae_interp.probing.run import ProbingOptions, run_probing
from sae_interp.probing.splits import default_variants
from sae_interp.probing.summary import summarise
from sae_interp.probing.units import dataset_units, why_not_paired

logger = logging.getLogger(__name__)


def probing_options(cfg: SparseProbingEvalConfig) -> ProbingOptions:
    variants = cfg.variants if cfg.variants is not None else default_variants(cfg.setting)
    return ProbingOptions(
        setting=cfg.setting,
        variants=tuple(variants),
        seeds=tuple(cfg.split_seed_list()),
        ks=tuple(cfg.ks),
        penalty=cfg.penalty,
        baselines=tuple(cfg.baselines),
        binarize=cfg.binarize,
        normalize_ranking=cfg.normalize_ranking,
        pooling=cfg.pooling,
        max_seq_len=cfg.max_seq_len,
        max_examples=cfg.max_examples,
        batch_size=cfg.batch_size,
        workers=cfg.workers,
        solver=cfg.solver,
        device=cfg.probe_device,
    )


def run_sparse_probing(ctx: EvalContext[SparseProbingEvalConfig]) -> EvalResult:
    cfg = ctx.config
    names = cfg.dataset_names()
    run = run_probing(ctx.model, cfg.model, ctx.sae, names, probing_options(cfg))
    sae, baselines, variants = summarise(run.records, cfg.tolerance, seed=cfg.seed)
    assert run.timing is not None
    n_datasets = len({r.dataset for r in run.records if r.probe == "sae"})
    t = run.timing
    logger.info(
        "sparse_probing: model passes %.1f s (%d files cached, %d computed), encoding %.1f s, "
        "probes %.1f s over %d workers (worker seconds by probe: %s)",
        t.activations_s,
        t.n_activation_files_cached,
        t.n_activation_files_computed,
        t.encode_s,
        t.probes_s,
        t.workers,
        t.fit_s_by_probe,
    )
    for skip in run.skips:
        logger.info("sparse_probing: skipped %s (%s): %s", skip.dataset, skip.setting, skip.reason)
    metrics = SparseProbingMetrics(
        setting=cfg.setting,
        sae=sae,
        baselines=baselines,
        variants=variants,
        tolerance=cfg.tolerance,
        split_seeds=cfg.split_seed_list(),
        n_datasets=n_datasets,
        n_datasets_requested=len(names),
        n_skipped=len(run.skips),
        timing=run.timing,
    )
    return EvalResult(
        metrics=metrics,
        details=run.records,
        unstructured={"skipped": [s.model_dump() for s in run.skips]},
    )


DEFINITION = EVALS.register(
    "sparse_probing",
    EvalDefinition(
        eval_type_id="sparse_probing",
        config_cls=SparseProbingEvalConfig,
        output_cls=SparseProbingEvalOutput,
        runs_whole_in_all=True,
        run=run_sparse_probing,
        table_columns=(
            "sae.k1.test_auc",
            "sae.k16.test_auc",
            "sae.k128.test_auc",
            "baselines.best_baseline.test_auc",
            "sae.k16.minus_best_baseline_auc",
            "sae.k16.n_match",
            "n_datasets",
            "n_skipped",
        ),
        compare=CompareSpec(
            units=lambda out: dataset_units(out.eval_result_details),
            unit="dataset",
            pairing=lambda a, b: why_not_paired(a.eval_config, b.eval_config),
        ),
        info=lambda config: dataset_table(config.dataset_names()) if config.list_datasets else None,
    ),
)


def run_eval(
    config: SparseProbingEvalConfig | None = None, **kwargs: Any
) -> list[SparseProbingEvalOutput]:
    """Run the sparse probing eval on every SAE of ``config`` (``kwargs``: ``model=``,
    ``saes=`` objects to use instead of loading specs)."""
    return run_per_sae(DEFINITION, config or SparseProbingEvalConfig(), **kwargs)
