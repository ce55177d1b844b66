#!/usr/bin/env bash
# Rebuild the SAEs shipped in sae_interp/assets/saes from scratch (offline).
# Both SAEs are trained together on blocks.6.hook_resid_post of the embedded Gemma 3 270M
# with sae-lens' multi-SAE runner; every setting is recorded in each SAE's training.json.
# CPU: ~350 training tokens/s for the pair on 2 cores. Pass --training-tokens to change.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m sae_interp.training.default_saes --work-dir sae_training_run "$@"
