"""Train the SAEs shipped with the embedded default, with sae-lens' own trainer.

The embedded Gemma 3 270M is run once over the train split of the embedded corpus and the
activations at ``blocks.6.hook_resid_post`` are cached on disk (special tokens excluded:
BOS's residual norm at layer 6 is ~16x that of text tokens). Each SAE is then trained on
shuffled batches of the cache with ``sae_lens``' ``SAETrainer`` (see ``cached_training``),
converted to sae_interp's classes, verified and written to
``sae_interp/assets/saes/<name>/`` with a ``training.json`` recording every setting.

    python -m sae_interp.training.default_saes --data-tokens 2000000
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
from pathlib import Path
from typing import Any

import torch

from sae_interp.base.logging import setup_logging
from sae_interp.base.torch_utils import seed_everything
from sae_interp.data import load_corpus
from sae_interp.data.sources import CORPUS_VERSION
from sae_interp.models import activations_at_hook, load_model
from sae_interp.saes.loading import ASSETS_DIR
from sae_interp.training.activation_cache import cache_activations, load_cached_activations
from sae_interp.training.cached_training import TrainSettings, train_on_cache
from sae_interp.training.convert import from_saelens

logger = logging.getLogger(__name__)

HOOK = "blocks.6.hook_resid_post"
MODEL_NAME = "gemma-3-270m"
CTX_LEN = 128
SEED = 42


def sae_settings(d_sae: int, ks: list[int], d_in: int = 640) -> dict[str, dict[str, Any]]:
    """Name -> {"architecture": sae-lens architecture, **its training config}; the first is
    the default SAE. TopK SAEs at several sparsities, so that evals can rank SAEs."""
    common = {"d_in": d_in, "d_sae": d_sae, "normalize_activations": "expected_average_only_in"}
    return {f"topk-{d_sae // 1024}k-k{k}": {"architecture": "topk", **common, "k": k} for k in ks}


def git_commit() -> str:
    """HEAD, with ``-dirty`` when the package differs from it (the run is then not
    reproducible from the commit alone)."""
    try:
        head = subprocess.check_output(["git", "rev-parse", "HEAD"], text=True).strip()
        dirty = subprocess.run(
            ["git", "diff", "--quiet", "HEAD", "--", "sae_interp", ":!sae_interp/assets"]
        ).returncode
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}-dirty" if dirty else head


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-tokens",
        type=int,
        default=2_000_000,
        help="corpus tokens run through the model and cached",
    )
    parser.add_argument(
        "--training-tokens",
        type=int,
        default=2_000_000,
        help="tokens each SAE trains on (epochs over the cache)",
    )
    parser.add_argument("--batch-tokens", type=int, default=1024)
    parser.add_argument("--d-sae", type=int, default=4096)
    parser.add_argument(
        "--ks",
        type=int,
        nargs="+",
        default=[64, 32],
        help="TopK k of each SAE; the first is the default SAE",
    )
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--only", nargs="*", default=None, help="train only these SAE names")
    parser.add_argument("--work-dir", type=Path, default=Path("sae_training_run"))
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="activation cache (default: WORK_DIR/activations); resumable",
    )
    parser.add_argument("--assets-dir", type=Path, default=ASSETS_DIR)
    parser.add_argument(
        "--model",
        default="embedded",
        help="model spec; 'random-weights:embedded@0' trains the SAEs of the random-model "
        "control (give --assets-dir sae_interp/assets/random_model_saes to ship them, or a "
        "folder of your own: they load as local directories)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    setup_logging("INFO")
    commit = git_commit()
    seed_everything(SEED)
    from sae_lens import SAE

    model = load_model(args.model, device="cpu")
    model_name = model.cfg.model_name if args.model != "embedded" else MODEL_NAME
    tokens = load_corpus("embedded:train", model.tokenizer, args.data_tokens, CTX_LEN)
    cache = cache_activations(
        model, tokens, HOOK, args.cache_dir or args.work_dir / "activations", batch_size=32
    )
    acts = load_cached_activations(cache)
    settings = TrainSettings(
        training_tokens=args.training_tokens,
        batch_tokens=args.batch_tokens,
        lr=args.lr,
        seed=SEED,
    )
    check = load_corpus("embedded:validation", model.tokenizer, 4 * CTX_LEN, CTX_LEN)
    check_acts = activations_at_hook(model, check, HOOK)[:, 1:].reshape(-1, model.cfg.d_model)
    args.assets_dir.mkdir(parents=True, exist_ok=True)
    specs = sae_settings(args.d_sae, args.ks, model.cfg.d_model)
    for name, spec in specs.items():
        if args.only and name not in args.only:
            continue
        trained, run = train_on_cache(spec, acts, settings, hook_name=HOOK, model_name=model_name)
        trained.save_inference_model(str(args.work_dir / name))
        inner = SAE.load_from_disk(str(args.work_dir / name), device="cpu")
        sae = from_saelens(inner, model_name, check_acts)
        target = args.assets_dir / name
        sae.save(target)
        record = {
            "name": name,
            "model": args.model,
            "trainer": "sae-lens SAETrainer on cached activations",
            "sae_lens_settings": spec,
            "hook_name": HOOK,
            "context_size": CTX_LEN,
            "data_tokens": int(acts.shape[0]),
            "optimisation": settings.record(),
            "corpus": f"embedded:train (corpus version {CORPUS_VERSION})",
            "exclude_special_tokens": True,
            "code_commit": commit,
            "run": run,
            "device": "cpu",
            "torch_threads": torch.get_num_threads(),
        }
        (target / "training.json").write_text(json.dumps(record, indent=2))
        logger.info("wrote %s", target)
    # the SAEs this folder holds (a run with --only may leave some untrained)
    names = [name for name in specs if (args.assets_dir / name / "cfg.json").exists()]
    (args.assets_dir / "index.json").write_text(
        json.dumps({"default": names[0], "saes": sorted(names)}, indent=2)
    )


if __name__ == "__main__":
    main()
