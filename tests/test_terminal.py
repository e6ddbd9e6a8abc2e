"""The terminal view as a user sees it: the demo in a real pseudo-terminal (one line redrawn in place,
never wider than the terminal, a permanent record and the summary at the end) and through a pipe
(sparse plain lines, no carriage returns). Every run is bounded by a timeout."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time

import numpy as np
import pytest

from losswidget.chart.frame import Frame, Progress
from losswidget.views.text import bar, meter, sparkline

pty = pytest.importorskip("pty")

DEMO = [sys.executable, "-m", "losswidget.demo", "--epochs", "150", "--patience", "-1", "--pause", "0.01"]
TIMEOUT = 120


def run_in_terminal(columns: int) -> str:
    pid, fd = pty.fork()
    if pid == 0:  # the child: the demo, as typed in a terminal this wide
        os.environ["COLUMNS"] = str(columns)
        os.execv(DEMO[0], DEMO)
    out, deadline = b"", time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1.0)
            if not ready:
                if os.waitpid(pid, os.WNOHANG) != (0, 0):
                    break
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            out += data
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)
    return out.decode("utf-8", "replace")


@pytest.mark.parametrize("columns", [120, 60])
def test_a_terminal_gets_one_line_redrawn_and_a_record_at_the_end(columns):
    out = run_in_terminal(columns)
    permanent = [line.split("\r")[-1] for line in out.split("\r\n")[:-1]]  # what stays on the screen
    drawn = [piece for line in out.split("\r\n") for piece in line.split("\r")[:-1] if piece.strip()]
    assert len(drawn) >= 3, out  # redrawn in place, several times
    assert all(len(piece) <= columns - 1 for piece in drawn), max(drawn, key=len)
    assert any(re.match(r"demo \d+/150", piece) for piece in drawn)
    assert len(permanent) <= 10, permanent  # a line every ~2 s was 29 lines for a 60 s run
    assert "demo: epoch 149 · train" in out and "best" in permanent[-5]
    assert permanent[-3].startswith("  Finished 150 epochs.")  # the same summary as everywhere
    assert permanent[-2].startswith("  Diagnosis:") and permanent[-1].startswith("  Keep the weights of epoch")


def test_a_pipe_gets_sparse_plain_lines():
    done = subprocess.run(DEMO, capture_output=True, text=True, timeout=TIMEOUT, check=True)
    assert "\r" not in done.stdout
    lines = done.stdout.splitlines()
    assert 2 <= len(lines) <= 12, lines
    assert lines[-3].startswith("Finished 150 epochs.") and lines[-2].startswith("  Diagnosis:")


def test_the_meter_fits_any_width_and_keeps_its_layout():
    frame = Frame(x_range=(0, 10), y_range=(0, 1), title="demo", best=(3, 0.1234))
    frame.train = np.array([0.5, 0.3, 0.2], np.float32)
    frame.val = np.array([0.6, 0.4, 0.45], np.float32)
    frame.progress = Progress(epoch=2, done=2, total=10, elapsed=5.0, eta=20.0)
    for width in range(10, 140):
        assert len(meter(frame, width)) <= width
    wide = meter(frame, 200)
    assert wide.startswith("demo 2/10  [███▎") and "0:05<0:20" in wide and "best 0.1234  @ 3" in wide
    assert bar(0.5, 8) == "[████    ]" and bar(1.0, 4) == "[████]" and bar(0.0, 4) == "[    ]"
    assert sparkline(np.array([1.0, 2.0, np.nan, 3.0])) == "▁▅█" and sparkline(np.array([1.0])) == ""
