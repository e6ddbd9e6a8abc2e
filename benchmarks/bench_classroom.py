"""The teacher's view of a class folder: the cost of reading it, of a poll while every student sends
an epoch, of one chart frame and of the sentence with the table. Files written here (the log
format, as lw.ClassFolder writes it); not the browser's drawing, not real students' processes.

Run: .venv/bin/python benchmarks/bench_classroom.py [students] [epochs]

The server destination (``--server``): trackio's real server on 127.0.0.1 (a subprocess), each
student a process of its own sending with lw.ClassServer an epoch every ``period`` seconds, the
teacher's view polling every ``poll`` seconds in this process: how long from a student's log() to
the view's first sight of that epoch, the server's and the view's CPU, and whether every epoch
arrived.

Run: .venv/bin/python benchmarks/bench_classroom.py --server [students] [epochs] [period] [poll]
"""

from __future__ import annotations

import json
import os
import subprocess
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


STUDENT = """
import json, sys, time
import losswidget as lw
link, name, epochs, period = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
send = lw.ClassServer(link, student=name, settings={"wd": int(name[1:]) % 2})
monitor = lw.LiveLossMonitor(display="none", patience=None, outputs=[send])
logged = []
for epoch in monitor.epochs(epochs):
    time.sleep(period)
    logged.append(time.time())
    monitor.log(train=1 / (epoch + 1), val=0.4 + 0.3 / (epoch + 1) + 0.002 * epoch)
print(json.dumps({"run_id": send.run_id, "logged": logged, "ok": send.wait(300)}), flush=True)
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_main(students: int = 30, epochs: int = 20, period: float = 0.5, poll: float = 0.5) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from trackio_server import TrackioServer

    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        server = TrackioServer(root / "data")
        server.start()
        try:
            lw.open_class(server.link)
            script = root / "student.py"
            script.write_text(STUDENT)
            room = lw.Classroom(server.view_link, group_by="wd")
            server_cpu, view_cpu, began = cpu_seconds(server.process.pid), time.process_time(), time.monotonic()
            processes = [
                subprocess.Popen(
                    [sys.executable, str(script), server.link, f"s{index}", str(epochs), str(period)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for index in range(students)
            ]
            seen: dict[tuple[str, int], float] = {}
            polls: list[float] = []
            deadline = time.monotonic() + 600
            while any(process.poll() is None for process in processes) and time.monotonic() < deadline:
                started = time.perf_counter()
                room.poll()
                polls.append(time.perf_counter() - started)
                now = time.time()
                for row in room.rows():
                    for epoch in range(len(row.val)):
                        seen.setdefault((row.source, epoch), now)
                time.sleep(poll)
            results = []
            for process in processes:
                out, err = process.communicate(timeout=400)
                if process.returncode != 0:
                    raise RuntimeError(err[-2000:])
                results.append(json.loads(out.strip().splitlines()[-1]))
            server_cpu, view_cpu = cpu_seconds(server.process.pid) - server_cpu, time.process_time() - view_cpu
            wall = time.monotonic() - began
            room.poll()
            rows = {row.source: row for row in room.rows()}
        finally:
            server.stop()
    delays, late, lost = [], [], 0
    for result in results:
        source = f"server run {result['run_id'][:12]}"
        row = rows.get(source)
        lost += epochs - (0 if row is None else len(row.val))
        for epoch, logged in enumerate(result["logged"]):
            if (source, epoch) in seen:
                delays.append(seen[(source, epoch)] - logged)
                if epoch >= epochs // 2:
                    late.append(delays[-1])
    delays = np.array(delays)
    print(f"{students} students x {epochs} epochs, an epoch every {period:g} s each, the view polling every {poll:g} s")
    print(
        f"log() to the view's first sight: median {np.median(delays):.2f} s, 90th percentile "
        f"{np.percentile(delays, 90):.2f} s, max {delays.max():.2f} s ({len(delays)} epochs seen live)"
    )
    if late:
        print(
            f"  the second half of the epochs (every student started): median {np.median(late):.2f} s, 90th "
            f"percentile {np.percentile(late, 90):.2f} s, max {max(late):.2f} s"
        )
    print(f"a poll: median {np.median(polls) * 1000:.0f} ms, max {max(polls) * 1000:.0f} ms ({len(polls)} polls)")
    print(f"server CPU {server_cpu:.1f} s, view CPU {view_cpu:.1f} s over {wall:.0f} s (the students' start to end)")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}")
    print(f"epochs lost: {lost}; every student's sends accepted: {all(result['ok'] for result in results)}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--server"]:
        numbers = sys.argv[2:6]
        server_main(*(int(value) if index < 2 else float(value) for index, value in enumerate(numbers)))
    else:
        main(*(int(argument) for argument in sys.argv[1:3]))
