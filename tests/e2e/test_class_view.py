"""The teacher's class view in JupyterLab in Chromium, following 30 student processes that send to a
shared folder as they run: every run drawn and listed, updates while they train, the groups' bands,
and students killed mid-run said in words while the view goes on; hovering a student's line names
them, and a click shows their training curve until clicked again."""

from __future__ import annotations

import os
import re
import signal

from losswidget.practice import curve_student, start

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


# A point on a solid line of the class chart, of this opacity and stroke width (a student's faded line:
# 0.35, 1 px; the selected student's: 1, 2 px), where that line is the element on top, past the steep
# start: in page coordinates, for the mouse.
POINT_ON_A_LINE = """([opacity, width]) => {
  const paths = [...document.querySelectorAll('.losswidget-classroom svg g.curve path.line')].filter(p => {
    const style = getComputedStyle(p);
    return (p.getAttribute('d') || '').length > 0 && Math.abs(parseFloat(style.opacity) - opacity) < 0.01
      && parseFloat(style.strokeWidth) === width && ['', 'none'].includes(style.strokeDasharray);
  });
  for (const path of paths) {
    const length = path.getTotalLength(), matrix = path.getScreenCTM();
    for (let f = 0.3; f < 0.95; f += 0.01) {
      const p = path.getPointAtLength(f * length);
      const x = matrix.a * p.x + matrix.c * p.y + matrix.e, y = matrix.b * p.x + matrix.d * p.y + matrix.f;
      if (document.elementFromPoint(x, y) === path) return [x, y];
    }
  }
  return null;
}"""
DASHED = """() => [...document.querySelectorAll('.losswidget-classroom svg g.curve path.line')].filter(
  p => (p.getAttribute('d') || '').length > 0 && !['', 'none'].includes(getComputedStyle(p).strokeDasharray)).length"""


def test_hovering_a_students_line_names_them_and_a_click_shows_their_training_curve(notebook, tmp_path):
    folder = tmp_path / "class"
    for number, weight_decay in enumerate([0.0, 0.0, 0.5, 0.5], start=1):  # two groups of two
        curve_student(folder, f"student {number}", weight_decay, seed=number, epochs=30, pause=0)
    nb = notebook(
        [
            f"import losswidget as lw\nroom = lw.classroom({str(folder)!r}, group_by='weight_decay')\nroom.watch(interval=0.5)\nroom"
        ]
    )
    nb.run_all()
    wait_until(lambda: len(nb.class_rows()) == 4, "every student in the table")
    caption = nb.page.locator(".losswidget-class-caption")
    wait_until(lambda: "Hover a student's line" in caption.inner_text(), "the caption saying how to select")
    x, y = wait_until(lambda: nb.page.evaluate(POINT_ON_A_LINE, [0.35, 1]), "a student's line on top somewhere")
    nb.page.mouse.move(x, y)
    tip = wait_until(
        lambda: next((t for t in nb.page.locator(".bqplot_mark_tooltip").all_inner_texts() if "student" in t), None),
        "a tooltip naming the hovered student",
    )
    named = re.fullmatch(r"(student \d) \(weight decay (0|0\.5), seed \d\)", tip.strip())
    assert named, tip
    student = named.group(1)
    assert nb.page.evaluate(DASHED) == 0
    nb.page.mouse.click(x, y)
    wait_until(lambda: nb.page.evaluate(DASHED) == 1, "the student's training curve drawn, dashed")
    said = wait_until(lambda: (c := caption.inner_text()) and c.startswith("Selected:") and c, "the caption")
    assert said.startswith(f"Selected: {tip.strip()} — validation solid, training dashed; click again to clear"), said
    # the curves' steep first epochs run off the top of the zoomed axis: said, with how high they go
    assert re.search(r"(clear|clear\. Losses above [\d.]+ run off the top \(up to [\d.]+\)\.)$", said), said
    marked = nb.page.locator(".losswidget-classroom tr.losswidget-selected").all_text_contents()
    assert len(marked) == 1 and marked[0].startswith(student), marked
    nb.screenshot("selected")
    # the axis took in the training curve: the selected line, drawn on top, clicked where it is now
    x, y = wait_until(lambda: nb.page.evaluate(POINT_ON_A_LINE, [1, 2]), "the selected line on top somewhere")
    nb.page.mouse.click(x, y)
    wait_until(lambda: nb.page.evaluate(DASHED) == 0, "the training curve gone")
    wait_until(lambda: "Hover a student's line" in caption.inner_text(), "the caption cleared")
    assert nb.page.locator(".losswidget-classroom tr.losswidget-selected").count() == 0
