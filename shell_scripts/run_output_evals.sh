#!/usr/bin/env bash
# The intervention and agentic evals on the SAEs given (default: the default shipped SAE).
#   shell_scripts/run_output_evals.sh embedded --llm-model gpt-4o-mini --n-latents 20
set -euo pipefail
SAES="${1:-embedded}"
shift || true
python -m sae_interp.evals.intervention --saes "$SAES" "$@"
python -m sae_interp.evals.agentic --saes "$SAES" "$@"
