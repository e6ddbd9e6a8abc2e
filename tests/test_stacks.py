"""Installing losswidget into Colab's kernel stack changes none of it (tests/stacks/colab.txt).

scripts/test.sh builds .venv-colab from the pins, then installs the project into it the way a
Colab user's ``pip install`` would; this checks what that left behind.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

COLAB = os.environ.get("LOSSWIDGET_COLAB_PYTHON")
PINS = Path(__file__).parent / "stacks" / "colab.txt"


def pinned() -> dict[str, str]:
    pins = {}
    for line in PINS.read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if match:
            pins[match.group(1)] = match.group(2)
    return pins


def test_the_pins_name_colabs_kernel_stack():
    assert {"ipykernel", "ipython", "ipywidgets", "bqplot"} <= set(pinned())


@pytest.mark.skipif(not COLAB, reason="LOSSWIDGET_COLAB_PYTHON is not set (scripts/test.sh builds .venv-colab)")
def test_installing_losswidget_leaves_colabs_versions_as_they_were():
    script = "import importlib.metadata as m, json, sys; print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))"
    names = [*pinned(), "losswidget"]
    found = json.loads(subprocess.run([COLAB, "-c", script, *names], capture_output=True, text=True, check=True).stdout)
    installed = found.pop("losswidget")
    for name, version in pinned().items():
        assert re.sub(r"\+.*", "", found[name]) == version, f"{name} is {found[name]}, Colab has {version}"
    assert installed, "losswidget is installed in the Colab venv"
