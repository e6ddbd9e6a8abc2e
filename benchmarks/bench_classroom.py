"""The teacher's view of a class folder: the cost of reading it, of a poll while every student sends
an epoch, of one chart frame and of the sentence with the table. Files written here (the log
format, as lw.ClassFolder writes it); not the browser's drawing, not real students' processes.

Run: .venv/bin/python benchmarks/bench_classroom.py [students] [epochs]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import losswidget as lw
from losswidget.core.history_jsonl import epoch_line, header_line


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main(students: int = 300, epochs: int = 50) -> None:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for index in range(students):
            with open(folder / f"s{index}.jsonl", "w") as stream:
                stream.write(header_line(f"s{index}", {}, student=f"s{index}", settings={"wd": index % 2}))
                for epoch in range(epochs):
                    val = 0.4 + 0.3 / (epoch + 1) + 0.002 * epoch + rng.normal(0, 0.01)
                    stream.write(epoch_line({"epoch": epoch, "train": 1 / (epoch + 1), "val": val}))
        room = None

        def first() -> None:
            nonlocal room
            room = lw.Classroom(folder, group_by="wd")

        print(f"{students} students x {epochs} epochs: first read {timed(first):.2f} s")
        print(f"poll with nothing new: {timed(room.poll) * 1000:.0f} ms")
        for more in range(3):
            for index in range(students):
                with open(folder / f"s{index}.jsonl", "a") as stream:
                    stream.write(epoch_line({"epoch": epochs + more, "train": 0.02, "val": 0.5}))
            print(f"poll after every student sent an epoch: {timed(room.poll) * 1000:.0f} ms")
        frame = room.frame()
        print(f"frame: {timed(room.frame) * 1000:.1f} ms ({len(frame.students)} curves drawn, {frame.hidden} hidden)")
        print(f"sentence and table: {timed(lambda: (room.sentence(), room.html())) * 1000:.1f} ms")


if __name__ == "__main__":
    main(*(int(argument) for argument in sys.argv[1:3]))
