#!/usr/bin/env bash
# Rebuild the SAEs shipped in sae_interp/assets/saes from scratch (offline).
# Both SAEs are trained together on blocks.6.hook_resid_post of the embedded Gemma 3 270M
# with sae-lens' multi-SAE runner; every setting is recorded in each SAE's training.json.
# CPU: 2M tokens took 100 min for the pair on 2 cores (shared with other jobs; ~450 tokens/s
# alone). Defaults reproduce the shipped SAEs; pass --training-tokens etc. to change them.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m sae_interp.training.default_saes --work-dir sae_training_run "$@"
