"""The teacher's class view in JupyterLab in Chromium, following 30 student processes that send to a
shared folder as they run: every run drawn and listed, updates while they train, the groups' bands,
and students killed mid-run said in words while the view goes on."""

from __future__ import annotations

import os
import signal

from losswidget.practice import start

from .conftest import wait_until

STUDENTS = 30


def test_the_teacher_sees_thirty_students_live_grouped_and_the_killed_ones_named(notebook, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    nb = notebook(
        [
            f"import losswidget as lw\nroom = lw.classroom({str(folder)!r}, group_by='weight_decay', "
            "silent_after=30)\nroom.watch(interval=0.5)\nroom"
        ]
    )
    nb.run_all()
    nb.page.wait_for_selector(".losswidget-classroom", timeout=60_000)
    students = start(folder, students=STUDENTS, epochs=60, pause=0.3, curves_only=True)
    try:
        rows = wait_until(lambda: (r := nb.class_rows()) and len(r) == STUDENTS and r, "every student in the table")
        assert any("running" in row for row in rows), rows[:3]
        paths = ".losswidget-classroom svg path.line"
        drawn = wait_until(
            lambda: nb.page.locator(paths).count() >= STUDENTS and nb.page.locator(paths).count(), "lines"
        )
        length = nb.page.eval_on_selector_all(
            paths, "ps => Math.max(...ps.map(p => (p.getAttribute('d') || '').length))"
        )
        nb.screenshot("running")
        # The curves grow while they train.
        wait_until(
            lambda: (
                nb.page.eval_on_selector_all(
                    paths, "ps => Math.max(...ps.map(p => (p.getAttribute('d') || '').length))"
                )
                > length
            ),
            "the curves growing",
        )
        for victim in students[:2]:  # two kernels killed mid-epoch
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait(timeout=10)
        for student in students[2:]:
            assert student.wait(timeout=120) == 0
        rows = wait_until(
            lambda: (r := nb.class_rows()) and sum("finished" in row for row in r) == STUDENTS - 2 and r,
            "every other run finished",
        )
        gone = [row for row in rows if "stopped without finishing" in row]
        assert len(gone) == 2 and all(("student 1" in row) or ("student 2" in row) for row in gone), gone
        sentence = nb.page.locator(".losswidget-classroom p").first.text_content()
        assert sentence.count("over 10 runs") + sentence.count("over 9 runs") == 3, sentence
        assert "standard errors" in sentence and len(rows) == STUDENTS
        assert nb.page.locator(paths).count() >= drawn
        nb.screenshot("finished")
    finally:
        for student in students:
            if student.poll() is None:
                student.kill()
                student.wait(timeout=10)
