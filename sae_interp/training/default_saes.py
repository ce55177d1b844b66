"""Train the SAEs shipped with the embedded default, with sae-lens' own trainer.

Both SAEs read the same hook and are trained in one run on the same activations
(sae-lens' multi-SAE runner shares the model's forward pass), on the train split of the
embedded corpus. Special tokens (BOS, whose residual norm at layer 6 is ~16x that of text
tokens) are excluded. The result is converted to sae_interp's classes, verified and written
to ``sae_interp/assets/saes/<name>/`` with a ``training.json`` recording every setting.

    python -m sae_interp.training.default_saes --training-tokens 2000000
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import time
from pathlib import Path
from typing import Any

import torch

from sae_interp.data import load_corpus
from sae_interp.data.sources import CORPUS_VERSION
from sae_interp.models import activations_at_hook, load_model
from sae_interp.saes.loading import ASSETS_DIR
from sae_interp.training.convert import from_saelens
from sae_interp.utils.logging import setup_logging
from sae_interp.utils.torch_utils import seed_everything

logger = logging.getLogger(__name__)

HOOK = "blocks.6.hook_resid_post"
CTX_LEN = 128
SEED = 42


def sae_settings(d_sae: int, k: int, l1_coefficient: float) -> dict[str, dict[str, Any]]:
    """Name -> (sae-lens architecture, its config) of the SAEs trained together."""
    common = {"d_in": 640, "d_sae": d_sae, "normalize_activations": "expected_average_only_in"}
    return {
        f"topk-{d_sae // 1024}k-k{k}": {"architecture": "topk", **common, "k": k},
        f"relu-{d_sae // 1024}k-l1": {
            "architecture": "standard",
            **common,
            "l1_coefficient": l1_coefficient,
            "l1_warm_up_steps": 200,
        },
    }


def _training_config(
    settings: dict[str, dict[str, Any]], args: argparse.Namespace, out: Path
) -> Any:
    from sae_lens.config import LoggingConfig
    from sae_lens.multi_sae_training_runner import MultiSAETrainingRunnerConfig
    from sae_lens.saes.standard_sae import StandardTrainingSAEConfig
    from sae_lens.saes.topk_sae import TopKTrainingSAEConfig

    classes = {"topk": TopKTrainingSAEConfig, "standard": StandardTrainingSAEConfig}
    saes = {}
    for name, spec in settings.items():
        fields = {k: v for k, v in spec.items() if k != "architecture"}
        saes[name] = classes[spec["architecture"]](**fields)
    return MultiSAETrainingRunnerConfig(
        saes=saes,
        hook_names=HOOK,
        model_name="google/gemma-3-270m",
        context_size=CTX_LEN,
        streaming=False,
        disable_concat_sequences=True,
        prepend_bos=True,
        exclude_special_tokens=True,
        training_tokens=args.training_tokens,
        train_batch_size_tokens=args.batch_tokens,
        store_batch_size_prompts=16,
        # sae-lens sizes the mixing buffer as n_batches_in_buffer * context_size tokens;
        # it must hold at least one training batch.
        n_batches_in_buffer=max(64, 2 * args.batch_tokens // CTX_LEN),
        lr=args.lr,
        lr_warm_up_steps=100,
        lr_scheduler_name="constant",
        lr_decay_steps=max(1, args.training_tokens // args.batch_tokens // 5),
        device="cpu",
        seed=SEED,
        dtype="float32",
        n_batches_for_norm_estimate=20,
        # sae-lens' default window (1000 steps) outlasts a short run, so AuxK would never see
        # a latent as dead; scale it to the run instead.
        dead_feature_window=dead_window(args),
        feature_sampling_window=2 * dead_window(args),
        n_eval_batches=2,
        logger=LoggingConfig(log_to_wandb=False),
        output_path=str(out),
        checkpoint_path=None,
        n_checkpoints=0,
    )


def dead_window(args: argparse.Namespace) -> int:
    """Steps without firing after which a latent counts as dead (for AuxK)."""
    steps = args.training_tokens // args.batch_tokens
    return max(25, min(1000, steps // 20))


def git_commit() -> str:
    try:
        return subprocess.check_output(["git", "rev-parse", "HEAD"], text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--training-tokens", type=int, default=2_000_000)
    parser.add_argument("--batch-tokens", type=int, default=2048)
    parser.add_argument("--d-sae", type=int, default=4096)
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("--l1-coefficient", type=float, default=5.0)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--work-dir", type=Path, default=Path("sae_training_run"))
    parser.add_argument("--assets-dir", type=Path, default=ASSETS_DIR)
    args = parser.parse_args(argv)
    setup_logging("INFO")
    torch.set_num_threads(max(1, torch.get_num_threads()))
    seed_everything(SEED)

    from datasets import Dataset
    from sae_lens.multi_sae_training_runner import MultiSAETrainingRunner

    model = load_model("embedded", device="cpu")
    n_tokens = args.training_tokens + 64 * CTX_LEN * 8  # headroom for buffer refills and evals
    tokens = load_corpus("embedded:train", model.tokenizer, n_tokens, CTX_LEN)
    dataset = Dataset.from_dict({"input_ids": tokens.tolist()})
    settings = sae_settings(args.d_sae, args.k, args.l1_coefficient)
    cfg = _training_config(settings, args, args.work_dir)
    started = time.time()
    trained = MultiSAETrainingRunner(cfg, override_dataset=dataset, override_model=model).run()
    elapsed = time.time() - started
    logger.info("trained %s in %.0f s", list(trained), elapsed)

    from sae_lens import SAE

    check = load_corpus("embedded:validation", model.tokenizer, 4 * CTX_LEN, CTX_LEN)
    check_acts = activations_at_hook(model, check, HOOK)[:, 1:].reshape(-1, 640)
    args.assets_dir.mkdir(parents=True, exist_ok=True)
    for name, spec in settings.items():
        inner = SAE.load_from_disk(str(args.work_dir / name), device="cpu")
        sae = from_saelens(inner, "gemma-3-270m", check_acts)
        target = args.assets_dir / name
        sae.save(target)
        record = {
            "name": name,
            "trainer": "sae-lens MultiSAETrainingRunner",
            "sae_lens_settings": spec,
            "hook_name": HOOK,
            "context_size": CTX_LEN,
            "training_tokens": args.training_tokens,
            "train_batch_size_tokens": args.batch_tokens,
            "lr": args.lr,
            "dead_feature_window_steps": dead_window(args),
            "seed": SEED,
            "corpus": f"embedded:train (corpus version {CORPUS_VERSION})",
            "exclude_special_tokens": True,
            "code_commit": git_commit(),
            "training_seconds_for_both": round(elapsed),
            "device": "cpu",
        }
        (target / "training.json").write_text(json.dumps(record, indent=2))
        logger.info("wrote %s", target)
    index = args.assets_dir / "index.json"
    names = sorted(settings)
    default = next(n for n in names if n.startswith("topk"))
    index.write_text(json.dumps({"default": default, "saes": names}, indent=2))


if __name__ == "__main__":
    main()
