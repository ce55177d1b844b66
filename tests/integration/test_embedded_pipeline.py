from pathlib import Path

import torch

from sae_interp.activations import (
    RecordStatus,
    SamplingConfig,
    build_latent_cache,
    iter_latent_batches,
    sample_records,
)
from sae_interp.data import load_corpus
from sae_interp.evals.core import CoreEvalConfig, run_eval
from sae_interp.saes import PCASAE, load_sae

HOOK = "blocks.6.hook_resid_post"


def test_embedded_corpus_blocks(gemma) -> None:
    tokens = load_corpus("embedded:validation", gemma.tokenizer, 4096, 128)
    assert tokens.shape == (32, 128)
    assert (tokens[:, 0] == gemma.tokenizer.bos_token_id).all()
    text = gemma.tokenizer.decode(tokens[0, 1:])
    assert sum(ch.isalpha() for ch in text) > 0.5 * len(text)  # real text, not noise
    train = load_corpus("embedded", gemma.tokenizer, 4096, 128)
    assert not torch.equal(train, tokens)  # the splits differ


def test_collection_cache_and_sampling_on_embedded_model(gemma, tmp_path: Path) -> None:
    tokens = load_corpus("embedded:validation", gemma.tokenizer, 4096, 128)
    acts = torch.cat(
        [
            b.acts_BLD[b.mask_BL]
            for b in iter_latent_batches(
                gemma,
                load_sae(f"identity:{HOOK}", model=gemma, device="cpu"),
                tokens[:8],
                batch_size=8,
                progress=False,
            )
        ]
    )
    sae = PCASAE.fit(acts, HOOK, d_sae=64, model_name="gemma-3-270m")
    cache = build_latent_cache(gemma, sae, tokens, tmp_path / "cache", batch_size=8, progress=False)
    assert cache.stats.n_tokens == int((tokens != gemma.tokenizer.bos_token_id).sum())
    assert int(cache.stats.count[0]) == cache.stats.n_tokens  # PCA latents are dense
    cfg = SamplingConfig(window_len=32, n_train=10, n_test=10, n_negatives=0, min_activating=5)
    records = sample_records(cache, [0, 1, 2], cfg, seed=0, progress=False)
    assert all(r.status == RecordStatus.ok and len(r.train) == 10 for r in records)
    window = records[0].train[0]
    assert window.tokens == tokens[window.seq, window.start : window.end].tolist()


def test_core_eval_end_to_end_identity(tmp_path: Path) -> None:
    cfg = CoreEvalConfig(
        saes=[f"identity:{HOOK}"],
        n_tokens=1024,
        n_ce_tokens=256,
        output_dir=tmp_path,
        device="cpu",
        save_latent_stats=False,
    )
    (out,) = run_eval(cfg)
    m = out.eval_result_metrics
    assert m.reconstruction.explained_variance > 0.999999
    assert m.model_behaviour is not None and abs(m.model_behaviour.ce_loss_recovered - 1.0) < 1e-4
    assert 2.0 < m.model_behaviour.ce_loss_clean < 6.0  # a trained LM on English text
    assert m.model_behaviour.ce_loss_zero_ablation > m.model_behaviour.ce_loss_clean + 1.0
    assert (tmp_path / "core" / "embedded__identity_blocks.6.hook_resid_post.json").exists()
