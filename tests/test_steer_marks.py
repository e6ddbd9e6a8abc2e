"""Every change steering makes is marked on the chart (issue #37): a thin rule where it took effect,
among the steps it came between, and a short label, the labels of one epoch joined; in the frame,
the notebook view and the static SVG alike, each label inside the plot. Real torch training on the
test's thread, the changes asked from inside the loop as a cell's code would."""

import re
import threading
import time
import xml.etree.ElementTree as ElementTree

import pytest

torch = pytest.importorskip("torch")

import losswidget as lw  # noqa: E402
from losswidget.chart.events import EventMarks  # noqa: E402
from losswidget.views.layout import text_width  # noqa: E402
from losswidget.views.svg import describe, render_svg  # noqa: E402
from losswidget.views.svg_panel import FONT, RIGHT, WIDTH  # noqa: E402

STEPS = 10  # per epoch
WAIT = 60  # seconds


class Steered:
    """A small regression trained with SGD, ``log_step`` every step; ``actions[(epoch, step)]`` run
    right after that step is logged (a change asked there applies from the next step)."""

    def __init__(self, **options):
        torch.manual_seed(0)
        self.model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.05)
        options = {"patience": 5, "display": "none", **options}
        self.monitor = lw.LiveLossMonitor(model=self.model, optimizer=self.optimizer, **options)
        self.x = torch.randn(64, 4, generator=torch.Generator().manual_seed(1))
        self.y = (self.x**2).sum(dim=1, keepdim=True)

    def step(self):
        """One optimizer step, its loss logged; returns the loss."""
        loss = torch.nn.functional.mse_loss(self.model(self.x), self.y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.monitor.log_step(train=loss)
        return loss

    def train(self, epochs, actions=None):
        actions = actions or {}
        for epoch in self.monitor.epochs(epochs):
            for step in range(STEPS):
                loss = self.step()
                for action in actions.get((epoch, step), ()):
                    action()
            with torch.no_grad():
                val = torch.nn.functional.mse_loss(self.model(self.x + 0.3), self.y).item()
            self.monitor.log(train=loss.item(), val=val)
        return self


def _at(epoch, step):
    """Where a change asked after ``step`` of ``epoch`` is drawn, among the epoch's steps (they fill
    [epoch - 0.5, epoch + 0.5)): the training thread applies it in the next ``log_step``, after that
    step's optimizer step: it acts from the step after, the event's ``step``."""
    return epoch - 0.5 + (step + 2) / STEPS


def _pause_then_resume(monitor):
    """Pause (held at the next ``log_step``, on this thread), and resume from another thread once held."""

    def resume_once_held():
        deadline = time.monotonic() + WAIT  # a bound on a hang, never a measurement
        while monitor._loop.paused_at is None and time.monotonic() < deadline:  # held, not only asked
            time.sleep(0.005)
        monitor.resume()

    monitor.pause()
    threading.Thread(target=resume_once_held, daemon=True).start()


def test_each_kind_of_change_is_marked_where_it_took_effect_with_its_label():
    run = Steered()
    monitor = run.monitor
    run.train(
        10,
        {
            (2, 5): [lambda: monitor.set_learning_rate(factor=0.5)],  # mid-epoch
            (4, 4): [lambda: setattr(monitor, "patience", 10)],
            (6, 6): [lambda: _pause_then_resume(monitor)],
            (8, 2): [lambda: setattr(monitor, "min_delta", 0.01), lambda: monitor.set_learning_rate(factor=2.0)],
        },
    )
    frame = monitor._build_frame()
    marks = [(mark.xs, mark.text, mark.rate) for mark in frame.changes]
    assert marks == [
        ((pytest.approx(_at(2, 5)),), "lr ×0.5", True),
        ((pytest.approx(_at(4, 4)),), "patience 5→10", False),
        ((pytest.approx(_at(6, 6)),), "paused", False),  # its resume is at the same step: one rule
        ((pytest.approx(_at(8, 2)),), "min_delta 0→0.01, lr ×2", False),  # one epoch, one label
    ]
    assert [mark.left for mark in frame.changes] == [False, False, True, True]  # the right half: left of the rule
    # The rate recorded per epoch changed at epochs 3 and 9 (each began with the new rate): the same
    # changes, not marked a second time there.
    assert frame.rate_changes == [(3, pytest.approx(0.5)), (9, pytest.approx(2.0))]


def test_a_learning_rate_changed_mid_epoch_is_drawn_in_the_epoch_the_status_names():
    run = Steered(patience=None)
    run.train(6, {(3, 4): [lambda: run.monitor.set_learning_rate(factor=0.1)]})
    (event,) = run.monitor.history.events
    frame = run.monitor._build_frame()
    ((x,),) = [mark.xs for mark in frame.changes]
    assert f"epoch {event.epoch}, step {event.step}" in event.sentence and event.epoch == 3
    assert event.epoch - 0.5 <= x < event.epoch + 0.5  # among epoch 3's steps, not at epoch 4
    assert x == pytest.approx(_at(3, 4))
    assert "Changes marked on the chart: lr ×0.1 at epoch 3." in describe(frame)  # the SVG's words: epoch 3 too


def test_a_schedule_s_change_is_still_marked_where_the_recorded_rate_changed():
    run = Steered(patience=None)
    scheduler = torch.optim.lr_scheduler.StepLR(run.optimizer, step_size=3, gamma=0.1)
    for _epoch in run.monitor.epochs(5):  # the optimizer's rate, recorded as each epoch begins
        for _ in range(STEPS):
            loss = run.step()
        run.monitor.log(train=loss.item(), val=loss.item())
        scheduler.step()
    frame = run.monitor._build_frame()
    assert [(mark.xs, mark.text, mark.rate) for mark in frame.changes] == [((3.0,), "lr ×0.1", True)]


def test_a_branch_is_marked_after_its_best_epoch_with_the_run_it_came_from():
    run = Steered(patience=None)
    run.train(5)
    best = run.monitor.best_epoch
    run.monitor.branch(factor=0.3)
    run.train(3, {(best + 2, 4): [lambda: setattr(run.monitor, "patience", 4)]})
    frame = run.monitor._build_frame()
    texts = {mark.text: mark.xs for mark in frame.changes}
    assert texts == {
        "branch from run 1, lr ×0.3": (best + 0.5,),  # the new run goes on after its best epoch
        "patience off→4": (pytest.approx(_at(best + 2, 4)),),
    }  # the branch's rate change (recorded at best + 1) is the branch's: not marked again


def test_the_marks_are_built_incrementally_and_follow_a_new_history():
    run = Steered(patience=None)
    run.train(4, {(1, 9): [lambda: run.monitor.set_learning_rate(factor=0.5)]})
    history = run.monitor.history
    marks = EventMarks()
    first = marks.marks(history, None, [], (0.0, 5.0))
    assert marks._done == 1  # epoch 1 is over: its event's place is kept, not computed again
    history.events.append(history.events[0].__class__("pause", 3, 4 * STEPS, source="api"))  # in the last epoch
    again = marks.marks(history, None, [], (0.0, 5.0))
    assert marks._done == 1 and again[0] == first[0] and again[1].text == "paused" and again[1].xs == (3.5,)
    assert marks.marks(lw.History(), None, [], (0.0, 5.0)) == []  # another run's events: none of these


def _svg_texts(svg):
    root = ElementTree.fromstring(svg)
    return [element for element in root.iter("{http://www.w3.org/2000/svg}text")]


def test_the_svg_marks_each_change_with_a_rule_and_its_label_inside_the_plot():
    run = Steered()
    monitor = run.monitor
    run.train(
        10,
        {
            (2, 5): [lambda: monitor.set_learning_rate(factor=0.5)],
            (4, 4): [lambda: setattr(monitor, "patience", 10)],
            (9, 7): [lambda: _pause_then_resume(monitor)],  # at the right edge
        },
    )
    monitor.stop()
    frame = monitor._build_frame()
    svg = render_svg(frame)
    texts = {element.text: element for element in _svg_texts(svg)}
    left = float(re.search(r'<rect x="(\d+(?:\.\d+)?)" y="[\d.]+" width="[\d.]+" height="300"', svg).group(1))
    x0, x1 = frame.x_range
    for mark in frame.changes:
        element = texts[mark.text]
        x, anchor = float(element.get("x")), element.get("text-anchor")
        width = text_width(mark.text, FONT)
        start, end = (x - width, x) if anchor == "end" else (x, x + width)
        assert left <= start and end <= WIDTH - RIGHT, (mark.text, start, end)  # inside the plot
        assert anchor == ("end" if mark.left else "start")
        rule = left + (mark.x - x0) / (x1 - x0) * (WIDTH - RIGHT - left)
        assert f'x1="{rule:.1f}" x2="{rule:.1f}"' in svg  # its rule, where the label stands
    assert set(texts) >= {"lr ×0.5", "patience 5→10", "paused"}


def test_labels_at_the_right_edge_stay_inside_the_plot_in_the_notebook_view(quiet_comms):
    pytest.importorskip("bqplot")
    from losswidget.views.widget_marks import BIG_LABEL_SIZE, LABEL_SIZE, PLOT_WIDTH, change_rows, label_places

    for presentation in (False, True):
        run = Steered(display="widget", frame_rate=1000, presentation=presentation)
        monitor = run.monitor
        monitor._display.ensure_view(monitor._controls)
        pause, patience = (lambda m=monitor: _pause_then_resume(m)), (lambda m=monitor: setattr(m, "patience", 2))
        actions = {(7, 6): [pause, patience]}
        run.train(8, {**actions, (7, 7): [monitor.stop]})
        monitor._draw()
        frame = monitor._build_frame()
        x0, x1 = frame.x_range
        (mark,) = frame.changes
        assert mark.text == "patience 5→2, paused" and mark.left  # at the last epoch: left of its rule
        view = monitor._display.view.change_marks
        assert list(view.left_labels.text) == [mark.text] and view.left_labels.align == "end"
        assert not view.right_labels.visible
        at = (mark.x - x0) / (x1 - x0) * PLOT_WIDTH
        assert 0 <= at - 4 - text_width(mark.text, 11) and len(change_rows(frame)) == 1
        # The stop label, at the right edge too, on the same side, measured at the size it is drawn.
        (place, _what_if) = label_places(frame)
        epoch, _row, left = place
        size = BIG_LABEL_SIZE if presentation else LABEL_SIZE
        at = (epoch - x0) / (x1 - x0) * PLOT_WIDTH
        width = text_width(f"stopped (epoch {epoch})", size)
        assert left and 0 <= at - 6 - width and at <= PLOT_WIDTH
