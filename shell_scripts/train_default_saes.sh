#!/usr/bin/env bash
# Rebuild the SAEs shipped in sae_interp/assets/saes from scratch (offline).
# The embedded Gemma 3 270M runs once over 2M tokens of the embedded corpus' train split and
# its blocks.6.hook_resid_post activations are cached (resumable, ~2.6 GB fp16 under
# sae_training_run/activations); each TopK SAE then trains on the cache with sae-lens'
# SAETrainer. Every setting is recorded in each SAE's training.json.
# CPU (2 cores): ~40 min of model passes, then ~25 min per SAE. Afterwards remeasure with
#   python -m sae_interp.training.model_card
set -euo pipefail
cd "$(dirname "$0")/.."
python -m sae_interp.training.default_saes --work-dir sae_training_run "$@"
