"""docs/lessons/: the executed notebooks a reader sees on GitHub or nbviewer, without a kernel.

They are made by scripts/render_lessons.py from an execution of the notebooks. Here: every
notebook has its copy, each copy's cells are the lesson's cells as they are now (a lesson edited
without rendering it again fails here, naming the command), each chart is there as an image, no
widget state inflates the repository, and each lesson's text claims hold against the copy's own
output, as they do against a fresh run (tests/test_notebooks.py).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from notebook_claims import CLAIMS

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("render_lessons", ROOT / "scripts" / "render_lessons.py")
render_lessons = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render_lessons)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
AGAIN = "render it again: scripts/test.sh tests/test_notebooks.py -k ipykernel7, then scripts/render_lessons.py"


def _outputs(notebook):
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_lesson_has_a_current_executed_copy_with_its_charts(path):
    copy_path = render_lessons.RENDERED / path.name
    assert copy_path.exists(), f"docs/lessons/{path.name} is missing: {AGAIN}"
    copy = nbformat.read(copy_path, as_version=4)
    lesson = nbformat.read(path, as_version=4)
    assert render_lessons.sources(copy) == render_lessons.sources(lesson), f"{path.name} changed since: {AGAIN}"
    assert copy_path.stat().st_size <= render_lessons.MAX_BYTES
    outputs = _outputs(copy)
    assert all(cell.execution_count for cell in copy.cells if cell.cell_type == "code" and cell.source.strip())
    assert not any(output.get("output_type") == "error" for output in outputs)
    # Where the lesson shows a live chart, the reader sees its static image; no widget is left to fail.
    assert any("image/svg+xml" in output.get("data", {}) for output in outputs), "a lesson without its chart"
    assert not any(render_lessons.WIDGET in output.get("data", {}) for output in outputs)
    assert "widgets" not in copy.metadata
    if path.stem in CLAIMS:  # what the lesson says, against the output a reader sees beside it
        CLAIMS[path.stem](copy)


def test_the_copies_stay_small():
    total = sum(path.stat().st_size for path in render_lessons.RENDERED.glob("*.ipynb"))
    assert total <= len(NOTEBOOKS) * 100_000, f"docs/lessons/ holds {total} bytes"
    assert {p.name for p in render_lessons.RENDERED.glob("*.ipynb")} == {p.name for p in NOTEBOOKS}


def test_rendering_removes_only_what_needs_a_kernel():
    executed = nbformat.v4.new_notebook(metadata={"widgets": {"state": {"x": 1}}})
    cell = nbformat.v4.new_code_cell("monitor", execution_count=1)
    cell.metadata["execution"] = {"iopub.status.busy": "2026-12-06T04:00:00Z"}
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={render_lessons.WIDGET: {"model_id": "m"}, "image/svg+xml": "<svg/>", "text/plain": "<m>"},
        ),
        nbformat.v4.new_output("display_data", data={render_lessons.WIDGET: {"model_id": "n"}, "text/plain": "x"}),
        nbformat.v4.new_output("stream", name="stdout", text="best epoch: 7\n"),
    ]
    executed.cells = [cell, nbformat.v4.new_markdown_cell("![TensorBoard](../docs/images/tensorboard.png)")]
    copy = render_lessons.render(executed)
    assert copy.cells[1].source == "![TensorBoard](../images/tensorboard.png)"  # as it reads from docs/lessons/
    assert (render_lessons.RENDERED / "../images/tensorboard.png").exists()
    assert "widgets" not in copy.metadata and "execution" not in copy.cells[0].metadata
    assert [dict(o.get("data", {})) for o in copy.cells[0].outputs] == [
        {"image/svg+xml": "<svg/>", "text/plain": "<m>"},
        {},
    ]
    assert copy.cells[0].outputs[1].text == "best epoch: 7\n"
    assert render_lessons.WIDGET in executed.cells[0].outputs[0].data  # the executed notebook is untouched
