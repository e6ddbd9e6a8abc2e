#!/usr/bin/env bash
# Run every test: unit, widget, notebooks and the real-browser tests.
# Sets up .venv (and Debian's chromium) first if needed. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --browser
# Other kernel stacks, for the kernel and notebook tests: Colab's (ipykernel 6.17.1, IPython 7.34,
# ipywidgets 7.7.1, bqplot 0.12; losswidget installed into it must leave those as they are) and
# ipykernel 7.0.1 (Binder's image; no comm routing hook). Built once, rebuilt when their pins change.
stack_venv() {  # stack_venv DIR STAMP PIP-ARGS...
    local dir=$1 stamp=$2
    shift 2
    if [[ ! -x $dir/bin/python || "$(cat "$dir/.stamp" 2>/dev/null)" != "$stamp" ]]; then
        echo "test.sh: creating $dir"
        rm -rf "$dir"
        "${PYTHON:-python3}" -m venv "$dir"
        "$dir/bin/pip" install --quiet --disable-pip-version-check "$@" 2>&1 | grep -v "is ignored" || true
        "$dir/bin/pip" install --quiet --disable-pip-version-check -e . 2>&1 | grep -v "is ignored" || true
        echo "$stamp" > "$dir/.stamp"
    fi
}
stack_venv .venv-colab "$(cat tests/stacks/colab.txt pyproject.toml | sha256sum | cut -c1-16)" -r tests/stacks/colab.txt
stack_venv .venv-ipykernel70 "$(sha256sum pyproject.toml | cut -c1-16)-7.0.1" "ipykernel==7.0.1" "torch==2.13.0"
export LOSSWIDGET_COLAB_PYTHON="$PWD/.venv-colab/bin/python"
export LOSSWIDGET_IPYKERNEL70_PYTHON="$PWD/.venv-ipykernel70/bin/python"
set +e
.venv/bin/python -m pytest --durations=25 "$@"  # the slowest 25 close the log: the 30-minute budget
status=$?
set -e
if [[ $status -eq 5 ]]; then
    echo "test.sh: pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit $status
