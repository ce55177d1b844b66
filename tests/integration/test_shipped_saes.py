"""The SAEs in sae_interp/assets load offline and reproduce their documented numbers."""

import json
from pathlib import Path

import pytest

from sae_interp.evals.core import CoreEvalConfig, run_eval
from sae_interp.saes import load_sae
from sae_interp.saes.loading import ASSETS_DIR, embedded_sae_names

NAMES = embedded_sae_names()


def test_an_sae_ships_and_is_the_default() -> None:
    assert len(NAMES) >= 2, "the embedded default ships at least two SAEs to rank"
    default = json.loads((ASSETS_DIR / "index.json").read_text())["default"]
    assert default in NAMES
    assert (ASSETS_DIR.parent / "README.md").exists()
    for name in NAMES:
        for file in ("cfg.json", "sae_weights.safetensors", "training.json", "metrics.json"):
            path = ASSETS_DIR / name / file
            assert path.exists(), path
            assert path.stat().st_size < 50 * 2**20


@pytest.mark.parametrize("name", NAMES)
def test_shipped_sae_reproduces_documented_metrics(name: str, gemma, tmp_path: Path) -> None:
    sae = load_sae(f"embedded:{name}", model=gemma, device="cpu")
    assert sae.cfg.d_in == 640 and sae.cfg.hook_name == "blocks.6.hook_resid_post"
    documented = json.loads((ASSETS_DIR / name / "metrics.json").read_text())
    reference = documented["reference_check"]
    cfg = CoreEvalConfig(
        saes=[name],
        n_tokens=reference["requested_tokens"],
        n_ce_tokens=0,
        ctx_len=reference["ctx_len"],
        output_dir=tmp_path,
        device="cpu",
        save_latent_stats=False,
    )
    (out,) = run_eval(cfg, model=gemma, saes={name: sae})
    m = out.eval_result_metrics
    assert m.n_tokens == reference["n_tokens"]
    assert m.sparsity.l0 == pytest.approx(reference["l0"], rel=0.01)
    assert m.reconstruction.explained_variance == pytest.approx(
        reference["explained_variance"], abs=0.005
    )
    # and the documented quality is a learned SAE, well above its random SAE
    assert (
        documented["quality"]["explained_variance"]
        > documented["random_sae"]["explained_variance"] + 0.3
    )
