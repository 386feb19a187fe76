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
# uv installs the same packages as pip from the same indexes (pip's configuration, read by
# scripts/pip_to_uv.py; every index searched for the best match, as pip does) in about half
# the time: 104 s against 229 s for pip on the reference machine under load (2026-12-03).
# UIM_INSTALLER=pip uses pip; so does a failure to get or run uv.
pip_install() {
    "$venv/bin/python" -m pip install --no-input --progress-bar off -q -r requirements.txt -e .
}
uv_install() {
    "$venv/bin/python" -m pip install --no-input --progress-bar off -q uv || return 1
    local out line opts=()
    out=$("$venv/bin/python" scripts/pip_to_uv.py) || return 1
    while IFS= read -r line; do
        if [ -n "$line" ]; then opts+=("$line"); fi
    done <<< "$out"
    # pip's timeout where PIP_DEFAULT_TIMEOUT sets one (180 s here), else uv's 30 s
    UV_HTTP_TIMEOUT="${UV_HTTP_TIMEOUT:-${PIP_DEFAULT_TIMEOUT:-30}}" \
        "$venv/bin/uv" pip install -q --python "$venv/bin/python" ${opts[@]+"${opts[@]}"} \
        --index-strategy unsafe-best-match --compile-bytecode -r requirements.txt -e .
}
if [ "${UIM_INSTALLER:-uv}" = pip ]; then
    pip_install
elif ! uv_install; then
    echo ">>> uv failed (above); installing with pip instead"
    pip_install
fi
touch "$stamp"
echo ">>> environment ready in $(( $(date +%s) - start )) s ($stamp)"
