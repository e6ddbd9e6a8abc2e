"""A class sending to a shared folder, measured as a class runs it: N student processes (each a real
LiveLossMonitor with lw.ClassFolder, made-up curves, one epoch every PAUSE seconds) and the teacher's
view in this process, polling every 0.5 s (Classroom.watch's interval here) and drawing a frame and
the sentence and table after each poll that changed something.

Reports: how long from a student's log() until the teacher's view holds that epoch (seen minus the
time the student stamped into the record), the view's CPU (this process's CPU time over the wall
time), the students' CPU, and whether every epoch of every student arrived (nothing lost).

Run: .venv/bin/python benchmarks/bench_class_folder.py [students] [epochs] [pause]
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import losswidget as lw

STUDENT = """
import sys, time
import numpy as np
import losswidget as lw
folder, name, seed, epochs, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
rng = np.random.default_rng(seed)
send = lw.ClassFolder(folder, student=name, settings={"weight_decay": [0.0, 0.1, 0.5][seed % 3]})
monitor = lw.LiveLossMonitor(patience=None, display="none", outputs=[send], name=name)
for epoch in monitor.epochs(epochs):
    time.sleep(pause)
    monitor.log(train=1 / (epoch + 1), val=0.5 + 1 / (epoch + 1) + rng.normal(0, 0.01), sent=time.time())
"""
POLL = 0.5


def main(students: int = 30, epochs: int = 20, pause: float = 1.0) -> None:
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=root)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        room = lw.Classroom(folder, group_by="weight_decay")
        started = time.perf_counter()
        cpu_start = time.process_time()
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", STUDENT, name, f"s{index}", str(index), str(epochs), str(pause)], env=env
            )
            for index in range(students)
        ]
        seen: dict[tuple[str, int], float] = {}
        polls, draw_seconds = 0, 0.0
        while True:
            running = any(process.poll() is None for process in processes)
            if room.poll():
                now = time.time()
                for row in room.rows():
                    for epoch in row.epochs:
                        seen.setdefault((row.student, int(epoch)), now)
                before = time.perf_counter()
                room.frame(), room.sentence(), room.html()
                draw_seconds += time.perf_counter() - before
            polls += 1
            if not running:
                break
            time.sleep(POLL)
        wall = time.perf_counter() - started
        view_cpu = time.process_time() - cpu_start
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        delays, late, sent_count = [], [], 0
        for path in sorted(folder.glob("*.jsonl")):
            history = lw.History.load(path)
            student = path.stem
            for epoch, sent in zip(history.epochs, history["sent"]):
                sent_count += 1
                if (student, int(epoch)) in seen:
                    delays.append(seen[(student, int(epoch))] - sent)
                    if epoch >= epochs // 2:  # every student started long before: the class in its stride
                        late.append(delays[-1])
        delays = np.array(delays)
        expected = students * epochs
        print(f"{students} students x {epochs} epochs, an epoch every {pause} s each, the view polling every {POLL} s")
        print(f"  exit codes: {sorted({process.returncode for process in processes})}")
        print(f"  records in the folder: {sent_count} of {expected}; seen by the view: {len(delays)} of {expected}")
        print(
            f"  log() to the teacher's view: median {np.median(delays):.2f} s, 95th percentile "
            f"{np.percentile(delays, 95):.2f} s, max {delays.max():.2f} s"
        )
        late = np.array(late)
        print(
            f"  the same, second half of the epochs (all {students} started): median {np.median(late):.2f} s, "
            f"95th percentile {np.percentile(late, 95):.2f} s, max {late.max():.2f} s"
        )
        print(
            f"  the view's CPU: {view_cpu:.1f} s over {wall:.1f} s wall ({100 * view_cpu / wall:.0f} % of one core); "
            f"drawing (frame, sentence, table) {draw_seconds:.1f} s in {polls} polls"
        )
        print(f"  the students' CPU, all together: {children.ru_utime + children.ru_stime:.1f} s")


if __name__ == "__main__":
    arguments = sys.argv[1:4]
    main(*(int(a) for a in arguments[:2]), *(float(a) for a in arguments[2:3]))
