#!/usr/bin/env bash
# Create .venv and install losswidget with everything its notebooks and tests need.
# Idempotent: a second run only checks. Usage: scripts/bootstrap.sh [--browser]
#   --browser  also install Debian's chromium (for the real-browser tests); needs root or sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${LOSSWIDGET_VENV:-.venv}

if [[ ! -x "$VENV/bin/python" ]]; then
    echo "bootstrap: creating $VENV with $($PYTHON --version)"
    "$PYTHON" -m venv "$VENV"
fi
# The stamp changes with pyproject.toml: reinstall only when requirements changed.
stamp="$VENV/.losswidget-installed"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "bootstrap: installing packages into $VENV (about a minute the first time)"
    # torch first, pinned: an unpinned resolve can pull a multi-GB CUDA build.
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "torch==2.13.0" 2>&1 | grep -v "is ignored" || true
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -e ".[test,notebook]" "torch==2.13.0" 2>&1 \
        | grep -v "is ignored" || true
    # fastai without its torchvision and spacy requirements: PyPI's torchvision is built for a CUDA
    # torch (its ops fail to load beside the CPU build) and spacy is for fastai.text only.
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps "fastai>=2.8,<2.9" 2>&1 \
        | grep -v "is ignored" || true
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "fastcore>=1.8" fastdownload fasttransform \
        fastprogress plum-dispatch cloudpickle matplotlib pillow scipy "torch==2.13.0" 2>&1 | grep -v "is ignored" || true
    KERAS_BACKEND=torch "$VENV/bin/python" -c "import losswidget, torch, ipywidgets, bqplot, jupyterlab, \
transformers, accelerate, keras, fastai.learner; assert torch.__version__.startswith('2.13.0')" \
        || { echo "bootstrap: installation failed (see pip's messages above)" >&2; exit 1; }
    echo "$want" > "$stamp"
fi

if [[ "${1:-}" == "--browser" && ! -x /usr/bin/chromium ]]; then
    echo "bootstrap: installing Debian's chromium for the real-browser tests"
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
