#!/usr/bin/env bash
# Set everything up, then open the classroom notebook in JupyterLab.
#   scripts/start.sh          JupyterLab on http://127.0.0.1:8888 with the overfitting notebook
#   scripts/start.sh --demo   a headless demo in this terminal instead
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
if [[ "${1:-}" == "--demo" ]]; then
    shift
    exec .venv/bin/python -m losswidget.demo "$@"
fi
notebook=${LOSSWIDGET_NOTEBOOK:-notebooks/02_seeing_overfitting.ipynb}
[[ -f "$notebook" ]] || notebook=notebooks
extra=()
[[ $(id -u) -eq 0 ]] && extra+=(--allow-root)
exec .venv/bin/jupyter lab --ip=127.0.0.1 "${extra[@]}" "$notebook"
