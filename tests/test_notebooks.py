"""Every notebook in notebooks/ runs top to bottom, without edits.

Executed copies (with outputs and widget state) are written to tests/notebooks_executed/, with
the seconds each took in times.json. The classroom target (each under a minute on 2 CPU cores) is
a benchmark, not an assertion: these machines are shared and noisy, and a test that fails on a
busy machine says nothing about the notebook (benchmarks/bench_notebooks.py measures it).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from notebook_claims import CLAIMS

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
EXECUTED = Path(__file__).parent / "notebooks_executed"
COLAB = os.environ.get("LOSSWIDGET_COLAB_PYTHON")
KERNELS = [
    pytest.param("python3", id="ipykernel7"),
    pytest.param(
        "colab",
        id="colab-stack",
        marks=pytest.mark.skipif(not COLAB, reason="LOSSWIDGET_COLAB_PYTHON is not set (scripts/test.sh)"),
    ),
]


def _importable(module: str) -> bool:
    import subprocess

    return subprocess.run([COLAB, "-c", f"import {module}"], capture_output=True).returncode == 0


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5


@pytest.mark.notebooks
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, kernel, tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKIO_DIR", str(tmp_path / "trackio"))  # a tracker's local store, not the home folder
    monkeypatch.setenv("LOSSWIDGET_STUDENT", "alan")  # notebooks/16 asks a name where the login is shared (root here)
    if kernel == "colab":  # Colab's kernel stack (tests/stacks/colab.txt), as a kernel spec of its own
        spec = tmp_path / "jupyter" / "kernels" / "colab"
        spec.mkdir(parents=True)
        argv = [COLAB, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        (spec / "kernel.json").write_text(json.dumps({"argv": argv, "language": "python", "display_name": "colab"}))
        monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    notebook = nbformat.read(path, as_version=4)
    if kernel == "colab":  # a framework notebook needs its framework, which Colab's pinned stack here lacks
        missing = [m for m in notebook.metadata.get("losswidget", {}).get("requires", []) if not _importable(m)]
        if missing:
            pytest.skip(f"{path.name} needs {', '.join(missing)}, not in tests/stacks/colab.txt")
    client = nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name=kernel,
        resources={"metadata": {"path": str(tmp_path)}},  # files the notebook writes land here
        store_widget_state=True,
    )
    started = time.monotonic()
    client.execute()
    seconds = time.monotonic() - started
    EXECUTED.mkdir(exist_ok=True)
    nbformat.write(notebook, EXECUTED / (path.name if kernel == "python3" else f"{path.stem}-{kernel}.ipynb"))
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    if kernel == "python3" and path.stem in CLAIMS:  # the lesson's text against its own output
        CLAIMS[path.stem](notebook)
    times = EXECUTED / "times.json"
    recorded = json.loads(times.read_text()) if times.exists() else {}
    recorded[f"{path.stem}-{kernel}"] = round(seconds, 1)
    times.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    # Where widgets don't run (GitHub, nbconvert), the chart is still there as an image.
    images = [o for cell in notebook.cells for o in cell.get("outputs", []) if "image/svg+xml" in o.get("data", {})]
    widgets = [
        o
        for cell in notebook.cells
        for o in cell.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert widgets, f"{path.name} shows no live chart"
    assert len(images) == len(widgets), "every live chart leaves a static image for GitHub and HTML exports"
    assert notebook.metadata.get("widgets"), "the executed copy keeps the widget state"


LESSONS = ("00_", "01_", "02_", "03_", "04_", "05_", "10_", "11_", "12_", "13_", "14_", "15_", "16_", "18_")


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name.startswith(LESSONS)], ids=lambda p: p.stem)
def test_a_lesson_asks_for_a_prediction_and_ends_with_a_quiz_whose_answers_are_folded(path):
    cells = nbformat.read(path, as_version=4).cells
    text = [cell.source for cell in cells if cell.cell_type == "markdown"]
    training = [index for index, cell in enumerate(cells) if cell.cell_type == "code" and "epochs(" in cell.source]
    training += [index for index, cell in enumerate(cells) if cell.cell_type == "code" and "lw.fit(" in cell.source]
    prompts = [index for index, cell in enumerate(cells) if cell.cell_type == "markdown" and "Predict" in cell.source]
    assert training and prompts and prompts[0] < min(training), "a prediction before the first training run"
    quiz = text[-1]
    assert "<details>" in quiz and "</details>" in quiz and "<summary>" in quiz, "a quiz with hidden answers last"
