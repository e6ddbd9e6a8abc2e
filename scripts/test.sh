#!/usr/bin/env bash
# Run every test: unit, widget, notebooks and the real-browser tests.
# Sets up .venv (and Debian's chromium) first if needed. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --browser
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [[ $status -eq 5 ]]; then
    echo "test.sh: pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit $status
