"""What an epoch end costs the training thread, per output (issue #35: a tracker never slows training).

One epoch end = one flush of 128 step losses and one epoch's four values, handed to the outputs as
the recorder hands them (``Outputs.steps`` then ``Outputs.epoch``), timed on the recording thread.
Variants: TensorBoard (ours, written on the recording thread), a tracker whose ``log`` returns at
once, and a tracker whose ``log`` takes 1 ms (a network call; 129 calls an epoch end). The median
epoch end of each round, the best round reported.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_outputs.py
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import tempfile
import time

import numpy as np

from losswidget.outputs.base import RunInfo
from losswidget.outputs.fanout import Outputs
from losswidget.outputs.tensorboard import TensorBoardLog
from losswidget.outputs.tracker import TrackerLog


class Run:
    """A tracker run: ``log(dict, step=)`` that takes ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay, self.calls = delay, 0

    def log(self, values: dict, step: int | None = None) -> None:
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)


def epoch_end_us(output: object, ends: int, rounds: int) -> float:
    outputs = Outputs([output])
    outputs.open(RunInfo(None))
    losses, epochs = np.linspace(1.0, 0.5, 128), np.zeros(128, dtype=np.int64)
    values = {"train": 0.5, "val": 0.6, "lr": 0.01, "acc": 0.9}
    best = []
    for _ in range(rounds):
        times = []
        for end in range(ends):
            start = time.perf_counter()
            outputs.steps(losses, epochs + end, 128 * end)
            outputs.epoch(end, values, 128 * (end + 1))
            times.append(time.perf_counter() - start)
        best.append(statistics.median(times))
        if hasattr(outputs, "wait"):  # what the loop's end does (outside the timing)
            outputs.wait(120)
    return min(best) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds of 50 epoch ends per variant")
    args = parser.parse_args()
    folder = pathlib.Path(tempfile.mkdtemp(prefix="bench-outputs-"))
    print("| output | one epoch end on the training thread, median (best round) |")
    print("|---|---|")
    print(f"| TensorBoard | {epoch_end_us(TensorBoardLog(folder / 'tb'), 50, args.rounds):.0f} µs |")
    print(f"| a tracker whose log returns at once | {epoch_end_us(TrackerLog(Run(0.0)), 50, args.rounds):.0f} µs |")
    print(f"| a tracker whose log takes 1 ms | {epoch_end_us(TrackerLog(Run(0.001)), 3, 2):.0f} µs |")


if __name__ == "__main__":
    main()
