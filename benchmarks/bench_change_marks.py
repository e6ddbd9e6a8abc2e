"""Steering's change marks (issue #37): their cost per frame at 10^4 to 10^6 steps and 20 to 10^4
events. Settled events keep their place (``chart/events.EventMarks``): a frame places only the last
epoch's and joins at most the last ``MAX_MARKS`` labels, so the cost stays flat in both.

Run: .venv/bin/python benchmarks/bench_change_marks.py   (results: benchmarks/RESULTS.md)
"""

from __future__ import annotations

import time

import numpy as np

import losswidget as lw
from losswidget.chart.events import EventMarks
from losswidget.core.events import Event

STEPS_PER_EPOCH = 100
FRAMES = 200


def per_frame(epochs: int, events: int) -> float:
    """Microseconds per frame of the marks of a run of ``epochs`` epochs and ``events`` patience moves."""
    history = lw.History()
    for epoch in range(epochs):
        history.log_steps(np.ones(STEPS_PER_EPOCH), epoch)
        history.log_epoch(epoch, {"val": 1.0})
    for k in range(events):
        epoch = k * epochs // events
        history.events.append(Event("patience", epoch, epoch * STEPS_PER_EPOCH + 30, float(k), float(k + 1)))
    marks = EventMarks()
    marks.marks(history, None, [(5, 0.5)], (0.0, float(epochs)))  # the first frame places them all
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(FRAMES):
            marks.marks(history, None, [(5, 0.5)], (0.0, float(epochs)))
        best = min(best, (time.perf_counter() - start) / FRAMES)
    return best * 1e6


def main() -> None:
    for epochs, events in ((100, 20), (1_000, 20), (10_000, 20), (1_000, 1_000), (10_000, 10_000)):
        steps = epochs * STEPS_PER_EPOCH
        print(f"{steps:>9,} steps {events:>6,} events: {per_frame(epochs, events):7.0f} µs per frame")


if __name__ == "__main__":
    main()
