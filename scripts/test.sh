#!/usr/bin/env bash
# Run every test: unit, widget, notebooks and the real-browser tests.
# Sets up .venv (and Debian's chromium) first if needed. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --browser
# A second kernel environment with ipykernel 6, for the "pump" regime test.
if [[ ! -x .venv-ipykernel6/bin/python ]] || ! .venv-ipykernel6/bin/python -c "import ipykernel, bqplot" 2>/dev/null; then
    echo "test.sh: creating .venv-ipykernel6 (ipykernel 6, for one kernel test)"
    "${PYTHON:-python3}" -m venv .venv-ipykernel6
    .venv-ipykernel6/bin/pip install --quiet --disable-pip-version-check "ipykernel>=6.29,<7" numpy traitlets \
        "ipywidgets>=8,<9" bqplot 2>&1 | grep -v "is ignored" || true
fi
export LOSSWIDGET_IPYKERNEL6_PYTHON="$PWD/.venv-ipykernel6/bin/python"
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [[ $status -eq 5 ]]; then
    echo "test.sh: pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit $status
