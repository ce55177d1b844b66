#!/usr/bin/env bash
# Resolve every dependency at its newest allowed version in a new virtual environment and
# write constraints.txt from what was installed (`make constraints`). Land the new file only
# together with a full `make test` run installed through it.
set -euo pipefail
python=${1:-python3}
torch_spec=${2:-torch==2.13.0}
wheels=${3:?the folder of the llama-cpp-python wheel (make llama-wheel)}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install "$torch_spec"
"$tmp/venv/bin/python" -m pip install --find-links "$wheels" -e "$root[dev,local-llm,distributed]"
{
    echo "# Every package at the version the full test run passed with; make install installs"
    echo "# through it. Written by 'make constraints' on $(date -u +%Y-%m-%d) with Python"
    echo "# $("$tmp/venv/bin/python" -c 'import platform; print(platform.python_version())') on $(uname -m); do not edit by hand."
    # local version labels (torch's +cpu) are dropped so a CUDA machine gets its own build
    "$tmp/venv/bin/python" -m pip freeze --exclude-editable | sed -E 's/\+[A-Za-z0-9.]+$//' | sort -f
} > "$root/constraints.txt"
echo "wrote $root/constraints.txt ($(grep -c '==' "$root/constraints.txt") pins)"
