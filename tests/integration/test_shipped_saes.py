"""The SAEs in sae_interp/assets load offline and reproduce their documented numbers: those
trained on the embedded model, and the same recipes trained on its random-weights copy (the
random-model control)."""

import json
from pathlib import Path
from typing import Any

import pytest

from sae_interp.evals.core import CoreEvalConfig, run_eval
from sae_interp.models import load_model
from sae_interp.saes import load_sae
from sae_interp.saes.loading import (
    ASSETS_DIR,
    RANDOM_MODEL_ASSETS_DIR,
    embedded_sae_names,
    random_model_counterpart,
)

NAMES = embedded_sae_names()
RANDOM_MODEL_NAMES = embedded_sae_names(RANDOM_MODEL_ASSETS_DIR)
FILES = ("cfg.json", "sae_weights.safetensors", "training.json", "metrics.json")


def test_an_sae_ships_and_is_the_default() -> None:
    assert len(NAMES) >= 2, "the embedded default ships at least two SAEs to rank"
    default = json.loads((ASSETS_DIR / "index.json").read_text())["default"]
    assert default in NAMES
    assert (ASSETS_DIR.parent / "README.md").exists()
    for name in NAMES:
        for file in FILES:
            path = ASSETS_DIR / name / file
            assert path.exists(), path
            assert path.stat().st_size < 50 * 2**20


def test_the_default_sae_ships_its_recipe_trained_on_the_random_weights_model() -> None:
    default = json.loads((ASSETS_DIR / "index.json").read_text())["default"]
    assert random_model_counterpart("embedded") == f"embedded-random-model:{default}"
    assert random_model_counterpart(f"embedded:{default}") == f"embedded-random-model:{default}"
    assert random_model_counterpart("planted") is None
    for name in RANDOM_MODEL_NAMES:
        for file in FILES:
            assert (RANDOM_MODEL_ASSETS_DIR / name / file).exists(), (name, file)
        trained = json.loads((ASSETS_DIR / name / "training.json").read_text())
        control = json.loads((RANDOM_MODEL_ASSETS_DIR / name / "training.json").read_text())
        assert control["model"] == "random-weights:embedded@0"
        # the same recipe: architecture, width, sparsity, data and optimisation
        for key in ("sae_lens_settings", "hook_name", "context_size", "optimisation", "corpus"):
            assert control[key] == trained[key], key


def reproduces(spec: str, model: Any, directory: Path, tmp_path: Path) -> dict[str, Any]:
    """Run the core eval's reference check of the shipped SAE ``spec`` and compare it with
    its metrics.json; returns the documented metrics."""
    sae = load_sae(spec, model=model, device="cpu")
    assert sae.cfg.d_in == 640 and sae.cfg.hook_name == "blocks.6.hook_resid_post"
    documented = json.loads((directory / "metrics.json").read_text())
    reference = documented["reference_check"]
    cfg = CoreEvalConfig(
        saes=[spec],
        n_tokens=reference["requested_tokens"],
        n_ce_tokens=0,
        ctx_len=reference["ctx_len"],
        output_dir=tmp_path,
        device="cpu",
        save_latent_stats=False,
    )
    (out,) = run_eval(cfg, model=model, saes={spec: sae})
    m = out.eval_result_metrics
    assert m.n_tokens == reference["n_tokens"]
    assert m.sparsity.l0 == pytest.approx(reference["l0"], rel=0.01)
    assert m.reconstruction.explained_variance == pytest.approx(
        reference["explained_variance"], abs=0.005
    )
    return documented


@pytest.mark.parametrize("name", NAMES)
def test_shipped_sae_reproduces_documented_metrics(name: str, gemma, tmp_path: Path) -> None:
    documented = reproduces(f"embedded:{name}", gemma, ASSETS_DIR / name, tmp_path)
    # and the documented quality is a learned SAE, well above its random SAE
    assert (
        documented["quality"]["explained_variance"]
        > documented["random_sae"]["explained_variance"] + 0.3
    )


@pytest.mark.parametrize("name", RANDOM_MODEL_NAMES)
def test_random_model_sae_reproduces_documented_metrics(name: str, tmp_path: Path) -> None:
    directory = RANDOM_MODEL_ASSETS_DIR / name
    model = load_model(json.loads((directory / "training.json").read_text())["model"])
    assert model.cfg.model_name.endswith("-random-weights-0")
    reproduces(f"embedded-random-model:{name}", model, directory, tmp_path)
