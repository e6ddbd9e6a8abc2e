"""The Binder recipe, checked as far as it runs here: a fresh venv built from binder/ files alone
installs JupyterLab >= 4.4, ipykernel >= 7.4 and a CPU-only torch, and executes every notebook.

What only Binder itself can check: repo2docker's own image build and its base environment, and
PyTorch's CPU index (unreachable here: torch resolves from this machine's package sources).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"


def run(command: list[str], cwd: Path, env: dict, timeout: float) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.mark.notebooks
@pytest.mark.timeout(2700)  # its steps carry their own limits (pip 900 s, postBuild 600 s, the notebooks 900 s)
def test_binder_environment_runs_the_notebooks(tmp_path):
    venv = tmp_path / "binder-env"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = dict(os.environ, PATH=f"{venv / 'bin'}:{os.environ['PATH']}", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    requirements = [
        line
        for line in (BINDER / "requirements.txt").read_text().splitlines()
        if not line.startswith("--extra-index-url")  # PyTorch's index is not reachable from here
    ]
    (tmp_path / "requirements.txt").write_text("\n".join(requirements) + "\n")
    run(["pip", "install", "--quiet", "-r", str(tmp_path / "requirements.txt")], tmp_path, env, 900)
    run(["bash", str(BINDER / "postBuild")], ROOT, env, 600)  # repo2docker runs it from the repo root
    versions = run(
        ["python", "-c", "import jupyterlab, ipykernel, torch, losswidget; "
         "print(jupyterlab.__version__, ipykernel.__version__, torch.version.cuda, losswidget.__file__)"],
        tmp_path, env, 120,
    ).split()  # fmt: skip
    lab, kernel, cuda, installed = versions
    assert tuple(map(int, lab.split(".")[:2])) >= (4, 4)
    assert tuple(map(int, kernel.split(".")[:2])) >= (7, 4), f"ipykernel {kernel}: 7.0-7.3 can wedge (README)"
    assert cuda == "None", f"Binder's torch must be a CPU build (no CUDA libraries to download): CUDA {cuda}"
    assert str(venv) in installed  # losswidget came from postBuild, not from this checkout
    copies = tmp_path / "notebooks"  # executed where they may write their files
    copies.mkdir()
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(notebook, copies)
    notebooks = sorted(str(p) for p in copies.glob("*.ipynb"))
    # notebooks/16 asks a student's name where the login is shared (root here, jovyan on Binder): given
    # here as a student sets it, since nbconvert has no one to type it
    env["LOSSWIDGET_STUDENT"] = "alan"
    run(
        ["jupyter", "nbconvert", "--to", "notebook", "--execute", "--output-dir", str(tmp_path / "out"),
         "--ExecutePreprocessor.timeout=300", "--ExecutePreprocessor.kernel_name=python3", *notebooks],
        tmp_path, env, 900,
    )  # fmt: skip
    assert len(list((tmp_path / "out").glob("*.ipynb"))) == len(notebooks)
