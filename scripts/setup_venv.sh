#!/bin/bash
# Create the virtual environment if missing and install the book's requirements and
# uim_utils (editable) into it, then touch the stamp file that `make` compares with
# requirements*.txt and pyproject.toml. Usage: scripts/setup_venv.sh [VENV] [PYTHON]
set -euo pipefail

venv="${1:-.venv}"
python="${2:-python3}"
stamp="$venv/.uim-installed"
cd "$(dirname "$0")/.."

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "error: $python is $("$python" --version 2>&1); the book needs Python >= 3.10" >&2
    exit 1
fi

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
    # Missing or broken (e.g. copied from another machine): (re)create it.
    echo ">>> creating $venv with $("$python" --version 2>&1)"
    "$python" -m venv --clear "$venv"
fi

echo ">>> installing requirements.txt and uim_utils (editable) into $venv"
start=$(date +%s)
# Non-interactive and quiet enough for CI logs; one resolver run for both.
"$venv/bin/python" -m pip install --no-input --progress-bar off -q \
    -r requirements.txt -e .
touch "$stamp"
echo ">>> environment ready in $(( $(date +%s) - start )) s ($stamp)"
