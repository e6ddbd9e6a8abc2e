"""The shape the code promises (docs/architecture.md): a pure core, one module touching kernel
internals, views that only draw, and an import of the package that loads no framework."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "losswidget"


def module_level_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((PACKAGE / "core").glob("*.py")), ids=lambda p: p.name)
def test_the_core_imports_only_numpy_the_standard_library_and_itself(path):
    for name in module_level_imports(path):
        top = name.split(".")[0]
        allowed = top in sys.stdlib_module_names or top == "numpy" or name.startswith("losswidget.core")
        assert allowed, f"{path.name} imports {name} at module level: the core is numpy only"


def test_only_the_kernel_module_touches_ipykernel_or_ipython_internals():
    touching = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        if any(word in text for word in ("shell_channel_thread", "msg_queue", "get_ipython", "post_run_cell")):
            touching.append(path.relative_to(PACKAGE).as_posix())
    assert touching == ["kernel.py"]


def test_views_compute_nothing_from_the_history():
    for path in sorted((PACKAGE / "views").glob("*.py")):
        imports = module_level_imports(path)
        assert not any(name.startswith(("losswidget.core", "losswidget.run")) for name in imports), (
            f"{path.name} imports {sorted(imports)}: views draw a Frame and nothing else"
        )


def test_importing_the_package_and_its_core_loads_no_framework():
    code = (
        "import sys, losswidget, losswidget.core.history, losswidget.core.stopping, losswidget.core.diagnosis; "
        "print(sorted(m for m in ('torch', 'ipywidgets', 'bqplot', 'IPython', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
