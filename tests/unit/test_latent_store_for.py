from pathlib import Path

import torch

from sae_interp.activations.latents import latent_cache_for, select_latents
from sae_interp.saes.base import sae_fingerprint
from sae_interp.testing import make_tiny_sae


def test_cache_is_keyed_and_reused(tiny_model, corpus_file: Path, tmp_path: Path) -> None:
    sae = make_tiny_sae()
    first = latent_cache_for(tiny_model, sae, str(corpus_file), 256, 32, 8, root=tmp_path)
    again = latent_cache_for(tiny_model, sae, str(corpus_file), 256, 32, 8, root=tmp_path)
    assert again.directory == first.directory
    other = make_tiny_sae(seed=1)
    assert sae_fingerprint(other) != sae_fingerprint(sae)
    assert (
        latent_cache_for(tiny_model, other, str(corpus_file), 256, 32, 8, root=tmp_path).directory
        != first.directory
    )
    bigger = latent_cache_for(tiny_model, sae, str(corpus_file), 512, 32, 8, root=tmp_path)
    assert bigger.directory != first.directory and bigger.n_seqs == 16


def test_select_latents(tiny_model, corpus_file: Path, tmp_path: Path) -> None:
    sae = make_tiny_sae(d_sae=48)
    with torch.no_grad():
        sae.b_enc[:8] = -1e6  # latents 0..7 can never fire
    cache = latent_cache_for(tiny_model, sae, str(corpus_file), 512, 32, 8, root=tmp_path)
    chosen = select_latents(cache, None, 10, seed=0)
    assert len(chosen) == 10 and all(c >= 8 for c in chosen) and chosen == sorted(chosen)
    assert (
        chosen == select_latents(cache, None, 10, seed=0) != select_latents(cache, None, 10, seed=1)
    )
    assert select_latents(cache, [3, 1], 10, seed=0) == [3, 1]
    assert len(select_latents(cache, None, 1000, seed=0)) == int((cache.stats.count > 0).sum())
    # a minimum activation count leaves out latents too rare to fill an eval's windows
    counts = cache.stats.count
    threshold = int(counts[counts > 0].float().median())
    frequent = select_latents(cache, None, 1000, seed=0, min_count=threshold)
    ids = cache.latent_ids
    assert frequent == sorted(ids[i] for i in range(len(ids)) if counts[i] >= threshold)
    assert 0 < len(frequent) < int((counts > 0).sum())
