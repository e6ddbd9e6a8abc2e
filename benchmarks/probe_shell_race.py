"""Does a kernel keep answering when the next cell arrives while the last one's reply goes out?

Run: .venv/bin/python benchmarks/probe_shell_race.py PYTHON [--cells 1000]   (results: benchmarks/RESULTS.md)

PYTHON is the interpreter of a venv with the ipykernel to probe (``.venv-ipykernel70/bin/python``
for 7.0.1, built by scripts/test.sh). No losswidget code runs in the kernel: every cell is a plain
``print``. Two ways of sending cells, as a frontend may:

- ``at output``: the next execute_request as soon as the last cell's output arrives, while its
  execute_reply may still be on its way (what "Run All" and a quick user do);
- ``after reply``: the next one only once the last execute_reply has arrived.

A cell that has not run 5 s after it was sent counts as stuck, and the run stops there: the kernel
dispatches nothing more, and one more request (kernel_info) does not wake it. Measured: ipykernel
7.0.1, 7.1.0, 7.2.0 and 7.3.0 wedge within ~10-100 cells sent at output; 7.4.0 ran 1,000 of 1,000;
7.0.1 ran 1,500 of 1,500 sent after the reply. The kernel tests therefore send a cell only after
the earlier replies (``Kernel.execute``), and Binder's requirements ask for ipykernel >= 7.4.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_kernel_regimes import Kernel  # noqa: E402


def cells_run(python: str, cells: int, after_reply: bool) -> int:
    """How many cells ran before one was stuck (``cells`` when none was)."""
    with tempfile.TemporaryDirectory() as folder:
        kernel = Kernel(python, Path(folder))
        try:
            for n in range(cells):
                kernel.execute(f"print('CELL {n}')", queued=not after_reply)
                if not kernel.read_until(lambda n=n: f"CELL {n}\n" in "".join(kernel.outputs[-2:]), 5):
                    return n
            return cells
        finally:
            kernel.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("python", help="the interpreter of the venv whose ipykernel is probed")
    parser.add_argument("--cells", type=int, default=1000)
    args = parser.parse_args()
    for label, after_reply in (("at output", False), ("after reply", True)):
        ran = cells_run(args.python, args.cells, after_reply)
        verdict = "none stuck" if ran == args.cells else f"cell {ran} stuck: the kernel dispatches nothing more"
        print(f"next cell sent {label}: {ran} of {args.cells} cells ran ({verdict})", flush=True)


if __name__ == "__main__":
    main()
