#!/usr/bin/env bash
# Create .venv and install losswidget with what the chosen level needs. Idempotent: a second run
# only checks. Usage: scripts/bootstrap.sh [--browser] [--lessons | --frameworks]
#   (no level)    everything: the lessons, the framework notebooks and the test tool-chain (test.sh, CI)
#   --lessons     only what the lesson notebooks 01-06 need (scripts/start.sh)
#   --frameworks  the lessons, the framework notebooks 07-09 (transformers, Keras, fastai) and the
#                 production notebook 12 (trackio, and TensorBoard to look at its event files)
#   --browser     also Debian's chromium (for the real-browser tests); needs root or sudo
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${LOSSWIDGET_VENV:-.venv}
# PyTorch's own index of CPU-only wheels: on a machine without an NVIDIA GPU the default index's
# Linux wheel brings gigabytes of CUDA libraries it cannot use.
CPU_INDEX=${LOSSWIDGET_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}
TORCH="torch==2.13.0"

level=full
browser=no
for argument in "$@"; do
    case $argument in
        --browser) browser=yes ;;
        --lessons) level=lessons ;;
        --frameworks) level=frameworks ;;
        *) echo "bootstrap: unknown option $argument (see the top of scripts/bootstrap.sh)" >&2; exit 2 ;;
    esac
done

quiet_pip() {  # pip, quietly; our own deliberate choices never print as errors
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "$@" 2>&1 \
        | grep -v -e "is ignored" -e "pip's dependency resolver does not currently" \
            -e "^fastai .* requires \(spacy\|torchvision\)" || true
}

has_nvidia_gpu() {
    [[ -e /proc/driver/nvidia/version ]] || command -v nvidia-smi >/dev/null 2>&1
}

reachable() {  # one quick look (5 s at most): can pip reach this index from here?
    "$VENV/bin/python" - "$1" <<'PY'
import sys
import urllib.request

try:
    urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/", method="HEAD"), timeout=5).close()
except Exception:
    sys.exit(1)
PY
}

install_torch() {
    if [[ "$(uname -s)" == Linux ]] && ! has_nvidia_gpu; then
        if reachable "$CPU_INDEX"; then
            # 2.13.0+cpu from PyTorch's index sorts above the default index's 2.13.0: pip takes it.
            quiet_pip --extra-index-url "$CPU_INDEX" "$TORCH"
            return
        fi
        echo "bootstrap: PyTorch's CPU-only index cannot be reached from here; torch comes from the default index"
    fi
    quiet_pip "$TORCH"
}

rank() { case $1 in lessons) echo 1 ;; frameworks) echo 2 ;; full) echo 3 ;; esac; }

if [[ ! -x "$VENV/bin/python" ]]; then
    echo "bootstrap: creating $VENV with $($PYTHON --version)"
    "$PYTHON" -m venv "$VENV"
fi
# The stamp names the level installed and changes with pyproject.toml: reinstall only when needed.
stamp="$VENV/.losswidget-installed"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
have_hash="" have_level=""
[[ -f "$stamp" ]] && read -r have_hash have_level <"$stamp"
if [[ "$have_hash" == "$want" && -n "$have_level" && $(rank "$have_level") -ge $(rank $level) ]]; then
    :  # already there
else
    case $level in
        lessons) echo "bootstrap: installing what the lessons need into $VENV (the first time: see README)" ;;
        *) echo "bootstrap: installing packages ($level) into $VENV (the first time: a few minutes)" ;;
    esac
    install_torch  # first, pinned: an unpinned resolve can pull a multi-GB CUDA build
    extras="notebook"
    [[ $level == full ]] && extras="test,notebook"
    quiet_pip -e ".[$extras]" "$TORCH"
    if [[ $level != lessons ]]; then
        quiet_pip "transformers>=4.46" "accelerate>=0.26" "keras>=3.0" "trackio>=0.40" "tensorboard>=2.15" "$TORCH"
        # fastai without its torchvision and spacy requirements, on purpose: PyPI's torchvision is
        # built for a CUDA torch (its ops fail to load beside the CPU build) and spacy is for
        # fastai.text only. Its other requirements follow.
        quiet_pip --no-deps "fastai>=2.8,<2.9"
        quiet_pip "fastcore>=1.8" fastdownload fasttransform fastprogress plum-dispatch cloudpickle matplotlib \
            pillow scipy "$TORCH"
    fi
    check="import losswidget, torch, ipywidgets, bqplot, jupyterlab, sklearn"
    [[ $level != lessons ]] && check+=", transformers, accelerate, keras, fastai.learner, trackio, tensorboard"
    KERAS_BACKEND=torch "$VENV/bin/python" -c "$check; assert torch.__version__.startswith('2.13.0')" \
        || { echo "bootstrap: installation failed (see pip's messages above)" >&2; exit 1; }
    echo "$want $level" >"$stamp"
fi

if [[ $browser == yes && ! -x /usr/bin/chromium ]]; then
    echo "bootstrap: installing Debian's chromium for the real-browser tests"
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
