"""The teacher's class view in JupyterLab in Chromium following a class split in two: 15 student
processes write to the lab's shared folder and 15 send to a real trackio server on 127.0.0.1, one
view of both (``lw.classroom([folder, link])``). Two folder students are killed mid-run and the server
is killed and restarted mid-class: the view keeps every run while the server is gone and says so,
names the killed students, and after the server returns every epoch of every server student is there.
The groups mix both halves: each weight decay's band is over the runs of both."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from trackio_server import TrackioServer

import losswidget as lw
from losswidget.practice import WEIGHT_DECAYS, start

from .conftest import wait_until

pytest.importorskip("trackio")

HALF, EPOCHS = 15, 40
STUDENT = """
import sys, time
import numpy as np
import losswidget as lw
link, name, decay, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(seed)
send = lw.ClassServer(link, student=name, settings={"weight_decay": decay, "seed": seed})
monitor = lw.LiveLossMonitor(patience=None, display="none", outputs=[send], name=name)
for epoch in monitor.epochs(EPOCHS):
    monitor.log(train=1 / (epoch + 1), val=0.5 + 1 / (epoch + 1) + (0.004 - decay / 100) * epoch + rng.normal(0, 0.01))
    time.sleep(0.3)
assert send.wait(120)
"""


def test_one_view_of_a_class_half_in_a_folder_half_on_a_server_survives_kills_and_a_restart(notebook, tmp_path):
    server = TrackioServer(tmp_path / "data")
    server.start()
    folder = tmp_path / "class"
    folder.mkdir()
    script = tmp_path / "student.py"
    script.write_text(textwrap.dedent(STUDENT).replace("EPOCHS", str(EPOCHS)))
    students = []
    try:
        lw.open_class(server.link)
        nb = notebook(
            [
                f"import losswidget as lw\nroom = lw.classroom([{str(folder)!r}, {server.view_link!r}], "
                "group_by='weight_decay', silent_after=60)\nroom.watch(interval=0.5)\nroom"
            ]
        )
        nb.run_all()
        nb.page.wait_for_selector(".losswidget-classroom", timeout=60_000)
        # students 1-15 write to the folder, 16-30 send to the server; the weight decays given out in turn
        students = start(folder, students=HALF, epochs=EPOCHS, pause=0.3, curves_only=True)
        on_server = [
            subprocess.Popen(
                [sys.executable, str(script), server.link, f"student {n}", str(WEIGHT_DECAYS[(n - 1) % 3]), str(n)],
                stdout=subprocess.DEVNULL,
            )
            for n in range(HALF + 1, 2 * HALF + 1)
        ]
        students += on_server
        rows = wait_until(
            lambda: (r := nb.class_rows()) and len(r) == 2 * HALF and sum("running" in row for row in r) > HALF and r,
            "both halves in the table, running",
        )
        assert sum("server run" in row for row in rows) == 0  # the table names students, not sources
        paths = ".losswidget-classroom svg path.line"
        wait_until(lambda: nb.page.locator(paths).count() >= 2 * HALF, "a line per student")
        nb.screenshot("split-running")
        for victim in students[:2]:  # two folder students' kernels killed mid-epoch
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait(timeout=10)
        server.stop()  # and the server killed mid-class
        time.sleep(3)
        assert len(nb.class_rows()) == 2 * HALF  # the view keeps every run as last read
        said = wait_until(
            lambda: "class server" in (t := nb.page.locator(".losswidget-classroom").text_content()) and t,
            "the view saying the server is gone",
        )
        nb.screenshot("split-server-gone")
        server.start()  # and back, on the same port and data
        for student in students[2:]:
            assert student.wait(timeout=180) == 0
        rows = wait_until(
            lambda: (r := nb.class_rows()) and sum("finished" in row for row in r) == 2 * HALF - 2 and r,
            "every other run finished",
            timeout=60,
        )
        gone = [row for row in rows if "stopped without finishing" in row]
        assert sorted(int(re.match(r"student (\d+)\D", row).group(1)) for row in gone) == [1, 2], gone
        sentence = nb.page.locator(".losswidget-classroom p").first.text_content()
        # each weight decay has 10 runs, 5 from each half; the two killed students took one from two groups
        assert sentence.count("over 10 runs") + sentence.count("over 9 runs") == 3, sentence
        assert "standard errors" in sentence
        # the killed students, stopped at their first epochs, are named and left out: the class is compared
        # at the last epoch the others share, not at theirs
        assert re.search(
            r"Not compared: 2 runs that stopped short without finishing \(student [12], student [12]\)\.", sentence
        )
        assert sentence.startswith(f"At epoch {EPOCHS - 1}, the last epoch every run compared reached"), sentence
        nb.screenshot("split-finished")
        room = lw.Classroom([folder, server.view_link], group_by="weight_decay")
        assert len(room.rows()) == 2 * HALF
        sent = [row for row in room.rows() if row.source.startswith("server run")]
        assert len(sent) == HALF
        assert all(len(row.val) == EPOCHS and np.isfinite(row.val).all() for row in sent)  # nothing lost
        assert {row.settings["weight_decay"] for row in sent} == set(WEIGHT_DECAYS)
        assert "server" in said
    finally:
        for student in students:
            if student.poll() is None:
                student.kill()
                student.wait(timeout=10)
        server.stop()
