"""The teacher's class view in JupyterLab in Chromium reading a real trackio server on 127.0.0.1
while 15 student processes send to it, and the server is killed and restarted mid-class: the view
keeps every run while it is gone and says so, and after it returns every epoch of every student is
there."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from trackio_server import TrackioServer

import losswidget as lw

from .conftest import wait_until

pytest.importorskip("trackio")

STUDENTS, EPOCHS = 15, 40
STUDENT = """
import sys, time
import numpy as np
import losswidget as lw
link, name, decay, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(seed)
send = lw.ClassServer(link, student=name, settings={"weight_decay": decay})
monitor = lw.LiveLossMonitor(patience=None, display="none", outputs=[send], name=name)
for epoch in monitor.epochs(EPOCHS):
    monitor.log(train=1 / (epoch + 1), val=0.5 + 1 / (epoch + 1) + (0.004 - decay / 100) * epoch + rng.normal(0, 0.01))
    time.sleep(0.3)
assert send.wait(120)
"""


def test_the_teachers_view_of_a_server_survives_its_restart_and_loses_nothing(notebook, tmp_path):
    server = TrackioServer(tmp_path / "data")
    server.start()
    script = tmp_path / "student.py"
    script.write_text(textwrap.dedent(STUDENT).replace("EPOCHS", str(EPOCHS)))
    students = []
    try:
        lw.open_class(server.link)
        nb = notebook(
            [
                f"import losswidget as lw\nroom = lw.classroom({server.view_link!r}, group_by='weight_decay', "
                "silent_after=60)\nroom.watch(interval=0.5)\nroom"
            ]
        )
        nb.run_all()
        nb.page.wait_for_selector(".losswidget-classroom", timeout=60_000)
        students = [
            subprocess.Popen(
                [sys.executable, str(script), server.link, f"student {n}", str([0.0, 0.1, 0.5][n % 3]), str(n)],
                stdout=subprocess.DEVNULL,
            )
            for n in range(STUDENTS)
        ]
        wait_until(
            lambda: len(nb.class_rows()) == STUDENTS and any("running" in row for row in nb.class_rows()), "all running"
        )
        nb.screenshot("server-running")
        server.stop()  # the server killed mid-class
        time.sleep(3)
        assert len(nb.class_rows()) == STUDENTS  # the view keeps every run as last read
        said = wait_until(
            lambda: "class server" in (t := nb.page.locator(".losswidget-classroom").text_content()) and t,
            "the view saying the server is gone",
        )
        nb.screenshot("server-gone")
        server.start()  # and back, on the same port and data
        for student in students:
            assert student.wait(timeout=180) == 0
        wait_until(
            lambda: sum("finished" in row for row in nb.class_rows()) == STUDENTS, "every run finished", timeout=60
        )
        sentence = nb.page.locator(".losswidget-classroom p").first.text_content()
        assert sentence.count("over 5 runs") == 3, sentence
        nb.screenshot("server-finished")
        room = lw.Classroom(server.view_link, group_by="weight_decay")
        assert len(room.rows()) == STUDENTS
        assert all(len(row.val) == EPOCHS and np.isfinite(row.val).all() for row in room.rows())  # nothing lost
        assert "server" in said
    finally:
        for student in students:
            if student.poll() is None:
                student.kill()
                student.wait(timeout=10)
        server.stop()
