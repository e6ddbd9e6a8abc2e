"""Executed copies of the notebooks for readers without a kernel (GitHub, nbviewer): docs/lessons/.

Usage: .venv/bin/python scripts/render_lessons.py
    (after tests/test_notebooks.py has executed the notebooks into tests/notebooks_executed/;
    ``scripts/test.sh tests/test_notebooks.py -k ipykernel7`` does just that)

Each copy is the executed notebook with its printed output and each chart's static SVG, less what
only a live kernel can use: the widget views and their saved state (about 150 KB a lesson, drawn as
nothing on GitHub) and nbclient's timestamps. A copy stays under ``MAX_BYTES``, so the folder grows
by at most that much per notebook; tests/test_lessons_rendered.py checks that every copy's cells
are the lesson's cells as they are now, its size, and the lesson's claims against its own output.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
EXECUTED = ROOT / "tests" / "notebooks_executed"
RENDERED = ROOT / "docs" / "lessons"
MAX_BYTES = 300_000  # one copy; the charts are decimated SVGs of ~10-40 KB each
WIDGET = "application/vnd.jupyter.widget-view+json"


def sources(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """Each cell's kind and text, with the markdown's links as they read from docs/lessons/."""
    return [
        (cell.cell_type, relocated(cell.source) if cell.cell_type == "markdown" else cell.source)
        for cell in notebook.cells
    ]


def relocated(markdown: str) -> str:
    """A lesson's link into docs/ (``../docs/images/x.png`` from notebooks/) as it reads from docs/lessons/."""
    return markdown.replace("](../docs/", "](../")


def render(executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The copy a reader without a kernel sees: outputs kept, widget views and state removed."""
    copy = nbformat.from_dict(executed)
    copy.metadata.pop("widgets", None)
    for cell in copy.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "markdown":
            cell.source = relocated(cell.source)
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.outputs:
            data = output.get("data")
            if data is not None and WIDGET in data:
                del data[WIDGET]
                if set(data) <= {"text/plain"}:
                    continue  # a widget without its static image: only "<LiveLossMonitor ...>" would be left
            outputs.append(output)
        cell.outputs = outputs
    return copy


def main() -> int:
    RENDERED.mkdir(parents=True, exist_ok=True)
    problems = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        executed_path = EXECUTED / path.name
        if not executed_path.exists():
            problems.append(f"{path.name}: not executed yet ({executed_path} is missing)")
            continue
        executed = nbformat.read(executed_path, as_version=4)
        if sources(executed) != sources(nbformat.read(path, as_version=4)):
            problems.append(f"{path.name}: the executed copy is older than the lesson; execute it again")
            continue
        copy = render(executed)
        target = RENDERED / path.name
        nbformat.write(copy, target)
        size = target.stat().st_size
        if size > MAX_BYTES:
            problems.append(f"{path.name}: {size} bytes, over {MAX_BYTES}: show fewer or smaller charts")
        print(f"render_lessons: {target.relative_to(ROOT)} ({size // 1000} KB)")
    for problem in problems:
        print(f"render_lessons: {problem}", file=sys.stderr)
    if problems:
        print(
            "render_lessons: execute the notebooks first: scripts/test.sh tests/test_notebooks.py -k ipykernel7",
            file=sys.stderr,
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
