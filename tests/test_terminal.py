"""The terminal view as a user sees it: the demo in a real pseudo-terminal (one line redrawn in place,
never wider than the terminal, a permanent record and the summary at the end) and through a pipe
(sparse plain lines, no carriage returns), in an ASCII terminal and with a run name in wide
characters (CJK, emoji: two columns each). Every run is bounded by a timeout."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
import unicodedata

import numpy as np
import pytest

from losswidget.chart.frame import Frame, Progress
from losswidget.views.text import PRINT_INTERVAL, bar, meter, sparkline

pty = pytest.importorskip("pty")

DEMO = [sys.executable, "-m", "losswidget.demo", "--epochs", "150", "--patience", "-1", "--pause", "0.01"]
TIMEOUT = 120


def run_in_terminal(columns: int, argv: list[str] = DEMO, env: dict[str, str] | None = None) -> str:
    pid, fd = pty.fork()
    if pid == 0:  # the child: the demo, as typed in a terminal this wide
        os.environ["COLUMNS"] = str(columns)
        os.environ.update(env or {})
        os.execv(argv[0], argv)
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


def drawn_pieces(out: str) -> list[str]:
    """Every state of the line redrawn in place."""
    return [piece for line in out.split("\r\n") for piece in line.split("\r")[:-1] if piece.strip()]


def display_columns(text: str) -> int:
    """Columns a terminal gives ``text``: two for an East Asian wide or fullwidth character."""
    return sum(2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for char in text)


@pytest.mark.parametrize("columns", [120, 60])
def test_a_terminal_gets_one_line_redrawn_and_a_record_at_the_end(columns):
    started = time.monotonic()
    out = run_in_terminal(columns)
    elapsed = time.monotonic() - started
    permanent = [line.split("\r")[-1] for line in out.split("\r\n")[:-1]]  # what stays on the screen
    drawn = drawn_pieces(out)
    assert len(drawn) >= 3, out  # redrawn in place, several times
    assert all(len(piece) <= columns - 1 for piece in drawn), max(drawn, key=len)
    assert any(re.match(r"demo \d+/150", piece) for piece in drawn)
    # A record stays only when the best epoch has moved, at most one every PRINT_INTERVAL seconds
    # (a line every ~2 s was 29 lines for a 60 s run); bounded by the run's own time, not a speed.
    records = [line for line in permanent if line.startswith("demo: epoch")][:-1]  # the last: the end's
    bests = [re.search(r"best \S+ at epoch \d+", line).group() for line in records]
    assert len(set(bests)) == len(bests), records
    assert len(records) <= 1 + elapsed / PRINT_INTERVAL, records
    assert "demo: epoch 149 · train" in out and "best" in permanent[-4]  # the end's record
    assert permanent[-3].startswith("  Finished 150 epochs.")  # the same summary as everywhere
    assert permanent[-2].startswith("  Diagnosis:") and permanent[-1].startswith("  Keep the weights of epoch")


def test_a_pipe_gets_sparse_plain_lines():
    started = time.monotonic()
    done = subprocess.run(DEMO, capture_output=True, text=True, timeout=TIMEOUT, check=True)
    elapsed = time.monotonic() - started
    assert "\r" not in done.stdout
    lines = done.stdout.splitlines()
    progress = [line for line in lines if line.startswith("Epoch ")]  # then the end's line and summary
    assert 1 <= len(progress) <= 1 + elapsed / PRINT_INTERVAL, progress  # bounded by the run's own time
    assert len(lines) - len(progress) <= 8, lines
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


def test_an_ascii_terminal_gets_the_line_in_ascii_and_the_run_finishes():
    out = run_in_terminal(100, env={"PYTHONIOENCODING": "ascii"})
    assert out.isascii() and "Traceback" not in out, out[-2000:]
    drawn = drawn_pieces(out)
    assert len(drawn) >= 3 and any(re.match(r"demo \d+/150  \[#+", piece) for piece in drawn), drawn[-3:]
    assert all(len(piece) <= 99 for piece in drawn)
    assert "demo: epoch 149 | train" in out
    assert "  Finished 150 epochs." in out


WIDE_NAME = "训练运行数据集的模型🔥測試"
WIDE_RUN = f"""
import sys, time, losswidget as lw
monitor = lw.LiveLossMonitor(patience=None, display="text", name={WIDE_NAME!r})
for epoch in monitor.epochs(150):
    monitor.log(train=1 / (epoch + 1), val=1.2 / (epoch + 1) + 0.001 * epoch)
    time.sleep(0.03)
"""


@pytest.mark.parametrize("columns", [60, 30])
def test_a_run_name_in_wide_characters_keeps_the_line_inside_the_terminal(columns):
    out = run_in_terminal(columns, [sys.executable, "-c", WIDE_RUN], env={"PYTHONIOENCODING": "utf-8"})
    drawn = drawn_pieces(out)
    assert len(drawn) >= 2 and "Finished 150 epochs." in out, out[-2000:]
    assert any(WIDE_NAME in piece for piece in drawn) or columns < 60  # the whole name, where it fits
    widest = max(drawn, key=display_columns)
    assert display_columns(widest) <= columns - 1, widest  # the last column would wrap
