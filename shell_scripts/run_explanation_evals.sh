#!/usr/bin/env bash
# Detection, fuzzing, surprisal and embedding on the SAEs given (default: both shipped SAEs),
# sharing one latent cache and one set of explanations per SAE. Extra flags pass through, e.g.
#   shell_scripts/run_explanation_evals.sh embedded:topk-4k-k64 --n-latents 20 --llm-model gpt-4o-mini
set -euo pipefail
SAES="${1:-embedded:topk-4k-k64,embedded:topk-4k-k32}"
shift || true
python -m sae_interp.evals.all --saes "$SAES" --evals autointerp,fuzzing,surprisal,embedding "$@"
