#!/usr/bin/env bash
# Core metrics for every SAE given (default: the shipped ones) on the embedded model.
#   shell_scripts/run_core.sh embedded:topk-4k-k64,embedded:topk-4k-k32 --n-tokens 65536
set -euo pipefail
SAES="${1:-embedded}"
shift || true
python -m sae_interp.evals.core --saes "$SAES" "$@"
