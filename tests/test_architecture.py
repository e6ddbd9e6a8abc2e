"""The shape the code promises (docs/architecture.md): the layer table read from that page and
enforced on every import (module level and inside functions), no import circle, modules of one
job and at most 300 lines, kernel internals in one package, views that only draw, and an import
of the package that loads no framework."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "losswidget"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
MAX_LINES = 300


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path) -> set[str]:
    """Every losswidget module ``path`` imports, wherever the import statement is (a function's
    lazy import counts as much as one at the top), resolved to modules that exist."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from losswidget.core import history_files" imports a module; "from x import y" a name
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name.startswith("losswidget") and name != module_name(path):
                found.add(name)
    return found


GRAPH = {name: imports_of(path) for name, path in MODULES.items()}


def layer_of(module: str) -> str:
    """The folder under losswidget/ (``core``, ``run``...), or the top-level module's own name."""
    parts = module.split(".")
    return "package" if len(parts) == 1 else parts[1]


def layer_table() -> dict[str, set[str]]:
    """The "may import" column of docs/architecture.md's layer table: the rule is written once."""
    table = {}
    for line in ARCHITECTURE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and (match := re.fullmatch(r"`(\w+)(?:/|\.py)?`", cells[0])):
            table[match.group(1)] = set(re.findall(r"`(\w+)`", cells[2]))
    return table


LAYERS = layer_table()


def test_the_layer_table_names_every_layer_of_the_code():
    layers = {layer_of(module) for module in MODULES}
    assert set(LAYERS) == layers, f"docs/architecture.md's layer table and the code's layers differ: {LAYERS}"
    unknown = {name for allowed in LAYERS.values() for name in allowed} - layers
    assert not unknown, f"the layer table allows imports of layers that do not exist: {unknown}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_layer_the_table_does_not_allow(module):
    layer = layer_of(module)
    upward = sorted(name for name in GRAPH[module] if layer_of(name) not in LAYERS[layer] | {layer})
    assert not upward, f"{module} ({layer}) imports {upward}: docs/architecture.md allows {sorted(LAYERS[layer])}"


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), and self-loops."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_circle_finder_finds_a_circle_through_a_lazy_import():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []
    source = "def f():\n    from losswidget.core import history\n"
    tree_imports = {
        node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert tree_imports == {"losswidget.core"}  # ast.walk reaches into functions, as imports_of does


def test_no_import_circle_anywhere_in_the_package():
    assert circles(GRAPH) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_is_at_most_300_lines(module):
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines: split it by job (docs/architecture.md)"


def test_only_the_kernel_package_touches_ipykernel_or_ipython_internals():
    touching = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        if any(word in text for word in ("shell_channel_thread", "msg_queue", "get_ipython", "post_run_cell")):
            touching.append(path.relative_to(PACKAGE).parts[0])
    assert set(touching) == {"kernel"}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer_of(m) == "core"))
def test_the_core_imports_only_numpy_the_standard_library_and_itself(module):
    tree = ast.parse(MODULES[module].read_text())
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            allowed = top in sys.stdlib_module_names or top == "numpy" or name.startswith("losswidget.core")
            lazy = id(node) not in top_level and top in ("torch", "pandas")  # on first use, never at import
            assert allowed or lazy, f"{module} imports {name}: the core is numpy and the standard library"


def test_views_compute_nothing_from_the_history():
    for module in MODULES:
        if layer_of(module) == "views":
            assert not any(layer_of(name) in ("core", "run") for name in GRAPH[module]), (
                f"{module} imports {sorted(GRAPH[module])}: views draw a Frame and nothing else"
            )


def test_every_module_the_sketch_names_exists():
    sketch = ARCHITECTURE.read_text().split("```")[1]
    named = set(re.findall(r"\b([a-z_]+)/([a-z_]+)\b", sketch))
    assert named, "docs/architecture.md starts with a sketch of the data's way that names modules"
    missing = sorted(f"{folder}/{name}" for folder, name in named if not (PACKAGE / folder / f"{name}.py").exists())
    assert not missing, f"docs/architecture.md's sketch names modules that do not exist: {missing}"


def test_importing_the_package_and_its_core_loads_no_framework():
    code = (
        "import sys, losswidget, losswidget.core.history, losswidget.core.stopping, losswidget.core.diagnosis; "
        "print(sorted(m for m in ('torch', 'ipywidgets', 'bqplot', 'IPython', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
