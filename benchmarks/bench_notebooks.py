"""How long each notebook in notebooks/ takes, top to bottom, in a real kernel, against the
classroom target: under a minute each on a 2-core machine.

    .venv/bin/python benchmarks/bench_notebooks.py [name-fragment ...]

Each notebook runs in a fresh ipykernel (nbclient, as tests/test_notebooks.py runs them), in a
temporary folder. Run it on a quiet machine: the figure is the wall-clock time a student waits.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import nbclient
import nbformat

TARGET_SECONDS = 60
NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def run(path: Path) -> float:
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as folder:
        client = nbclient.NotebookClient(notebook, timeout=600, resources={"metadata": {"path": folder}})
        started = time.monotonic()
        client.execute()
        return time.monotonic() - started


def main(fragments: list[str]) -> int:
    chosen = [p for p in NOTEBOOKS if not fragments or any(f in p.name for f in fragments)]
    over = 0
    for path in chosen:
        seconds = run(path)
        over += seconds > TARGET_SECONDS
        verdict = "ok" if seconds <= TARGET_SECONDS else f"OVER the {TARGET_SECONDS} s target"
        print(f"{path.name:40s} {seconds:6.1f} s  {verdict}", flush=True)
    print(f"{len(chosen) - over} of {len(chosen)} notebooks within {TARGET_SECONDS} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
