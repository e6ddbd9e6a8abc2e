#!/usr/bin/env bash
# Set up what the lessons need, then open the classroom notebook in JupyterLab.
#   scripts/start.sh               JupyterLab on http://127.0.0.1:8888, opened on the overfitting lesson
#   scripts/start.sh --demo        a demo in this terminal instead
#   scripts/start.sh --frameworks  also install transformers, Keras and fastai (notebooks 07-09), trackio and
#                                  TensorBoard (notebook 12)
set -euo pipefail
cd "$(dirname "$0")/.."
level=--lessons
if [[ "${1:-}" == "--frameworks" ]]; then
    level=--frameworks
    shift
fi
scripts/bootstrap.sh "$level"
if [[ "${1:-}" == "--demo" ]]; then
    shift
    exec .venv/bin/python -m losswidget.demo "$@"
fi
notebook=${LOSSWIDGET_NOTEBOOK:-notebooks/02_seeing_overfitting.ipynb}
[[ -f "$notebook" ]] || { echo "start: no notebook at $notebook" >&2; exit 1; }
# This server's settings only (inside .venv): no "Would you like to get notified about Jupyter
# news?" pop-up over the chart, no update check.
settings=.venv/share/jupyter/lab/settings
mkdir -p "$settings"
cat >"$settings/overrides.json" <<'JSON'
{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}
JSON
extra=()
[[ $(id -u) -eq 0 ]] && extra+=(--allow-root)
# The printed URL and the browser land on the lesson itself, not on the Launcher. The server config
# adds widget messages (comm_msg, comm_close) to jupyter_server's untracked message types: their
# busy/idle (a slider moved, Stop pressed) then no longer sets JupyterLab's status bar to "Idle"
# while the training cell runs, and they do not count as activity for idle-kernel culling.
exec .venv/bin/jupyter lab --ip=127.0.0.1 "${extra[@]}" --config=scripts/jupyter_server_config.json \
    --LabApp.default_url="/lab/tree/$notebook" "$@"
