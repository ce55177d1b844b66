"""The known-answer suite on the embedded default: a planted SAE for Gemma 3 270M at
``blocks.6.hook_resid_post`` (token-set detectors and calibrated decoys), collected through
the normal pipeline. Planted latents fire exactly on their token sets in real collection,
decoys fire about as often; given the correct explanations, the embedding scorer and the
offline simulator each score planted latents above the decoys that fire as often, and
embedding also above the shuffled-explanation control (measured on these settings: embedding
AUROC 0.71, decoys 0.56, control 0.52; simulation per-window correlation 0.30 against 0.00
for the decoys, planted - decoys 0.30 [0.06, ...]; its control is not separated, 0.27, and
is left out here)."""

from pathlib import Path

import torch

from sae_interp.activations.collect import iter_latent_batches
from sae_interp.data import load_corpus
from sae_interp.saes import load_sae
from sae_interp.saes.planted import PlantedSAE, decoy_latents, planted_token_sets
from sae_interp.saes.planted_sets import token_text
from sae_interp.validity import ValidityConfig, run_suite


def test_planted_sae_on_gemma(gemma, tmp_path: Path) -> None:
    sae = load_sae("planted", model=gemma, device="cpu")
    assert isinstance(sae, PlantedSAE) and sae.cfg.hook_name == "blocks.6.hook_resid_post"
    tokens = load_corpus("embedded:validation", gemma.tokenizer, 2048, 128)
    (batch,) = list(iter_latent_batches(gemma, sae, tokens, batch_size=32, progress=False))
    sets = planted_token_sets(sae)
    texts = [[token_text(gemma.tokenizer.decode([int(t)])) for t in row] for row in tokens]
    rates = (batch.latents_BLF > 0).float().sum((0, 1)) / batch.mask_BL.sum()
    for latent, token_set in sets.items():
        truth = torch.tensor([[bool(w) and token_set.member(w) for w in row] for row in texts])
        assert torch.equal(batch.latents_BLF[..., latent] > 0, truth & batch.mask_BL), token_set
    for j, decoy in enumerate(decoy_latents(sae)):  # calibrated on other text: same order
        partner = float(rates[j % len(sets)])
        assert 0.2 * partner <= float(rates[decoy]) <= 5 * partner + 0.01

    rows = {}
    # the simulator without its shuffled control, which it does not separate (and which
    # costs as much again)
    for evals, control in ((["embedding"], True), (["simulation"], False)):
        cfg = ValidityConfig.model_validate(
            {
                "n_tokens": 16_384,
                "device": "cpu",
                "output_dir": str(tmp_path),
                "evals": evals,
                "shuffled_control": control,
                "sources": ["given"],
                "with_intruder": False,
                "latents": [0, 1, 2, 3, 4, 5, 6, 9],  # planted, and decoys as frequent
                "sampling": {"window_len": 16, "n_train": 5, "n_test": 5, "n_negatives": 5},
            }
        )
        (report,) = run_suite(cfg, model=gemma, saes={"planted": sae})
        rows |= {(r.eval, r.metric): r for r in report.rows}
    embedding = rows["embedding", "auroc"]
    assert embedding.planted.n >= 4 and embedding.decoys.n == 2 and embedding.control.n >= 4
    assert embedding.planted.value is not None and embedding.planted.value >= 0.65, embedding
    for difference in (embedding.planted_minus_decoys, embedding.planted_minus_control):
        assert difference.value is not None and difference.value > 0.1, embedding
    assert embedding.planted_minus_decoys.lo is not None and embedding.planted_minus_decoys.lo > 0
    simulation = rows["simulation", "per_window_correlation"]
    assert simulation.control.n == 0  # not run
    assert simulation.planted.value is not None and simulation.planted.value > 0.15, simulation
    gap = simulation.planted_minus_decoys
    assert gap.value is not None and gap.value > 0.15 and gap.lo is not None and gap.lo > 0


def test_offline_judge_recovers_planted_latents_by_fuzzing(gemma, tmp_path: Path) -> None:
    """What the offline judge can do, asserted: given the correct explanations, per-example
    fuzzing (the offline default) scores every planted latent's AUROC above the same latent
    with another latent's explanation, with the paired interval above zero, and above the
    decoys that fire as often. A change that breaks the fuzzing scorer, its prompt or the
    offline LLM's reading fails here."""
    planted = list(range(6))
    cfg = ValidityConfig.model_validate(
        {
            "n_tokens": 16_384,
            "device": "cpu",
            "output_dir": str(tmp_path),
            "evals": ["fuzzing"],
            "sources": ["given"],
            "with_intruder": False,
            "latents": [*planted, 6, 9],  # decoys of digits and of closing brackets
            "sampling": {"window_len": 16, "n_train": 5, "n_test": 5, "n_negatives": 5},
        }
    )
    assert cfg.fuzzing.mode == "auto"  # per_example with the offline LLM
    sae = load_sae("planted", model=gemma, device="cpu")
    (report,) = run_suite(cfg, model=gemma, saes={"planted": sae})
    auroc = next(r for r in report.rows if r.eval == "fuzzing" and r.metric == "auroc")
    # on 16k tokens the colour latent (2) is too rare to score: reported, not pooled
    assert auroc.planted.n >= 4 and auroc.control.n >= 4 and auroc.decoys.n == 2
    assert auroc.separates_control, auroc
    assert auroc.planted.value is not None and auroc.planted.value >= 0.75, auroc
    assert auroc.planted_minus_decoys.value is not None
    assert auroc.planted_minus_decoys.value > 0.2, auroc
    (bias,) = [b for b in report.bias if b.eval == "fuzzing"]
    assert bias.mode == "per_example"
    assert abs(bias.positive_rate - bias.true_positive_fraction) < 0.3  # not "Yes" to all
