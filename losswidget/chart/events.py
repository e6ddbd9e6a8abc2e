"""What steering changed, as the loss chart marks it: a thin vertical rule where each change took
effect and a short label ("lr ×0.5", "paused", "patience 5→10", "min_delta 0→0.01", "branch from
run 1, lr ×0.3"), the labels of one epoch joined into one ("lr ×0.5, patience 5→10"). The events
themselves are ``history.events`` (:mod:`losswidget.core.events`); their words are ``Event.label``.

Where: at the step the change took effect, on the axis the steps are drawn on (the steps of epoch
``e`` fill ``[e - 0.5, e + 0.5)``, :meth:`~losswidget.chart.cache.StepCache.steps`): a change made
30 % into epoch 3 is drawn at 2.8, among the steps it came between, in the epoch the status names
("at epoch 3, step 66"); one made between two epochs, between their dots. A branch goes on after
its best epoch: at ``epoch + 0.5``. A resume is at its pause's step: the pause's rule says both.

A learning-rate change the schedule made (no event: a ``ReduceLROnPlateau`` cut) is marked where
the recorded rate (``lr``, the rate each epoch began with) changed, at that epoch, as the rate
panel below draws it; a change of the recorded rate that steering's events explain (their factors
multiply to it) is not marked twice: the events' rules are where it was made.

Which side: a label goes left of its rule in the right half of the chart, right of it in the left
half (:func:`label_left`, the one rule for every label beside a vertical line, stop and what-if
included), so that a label narrower than half the plot never runs off either edge.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from losswidget.core.schedule import change_text

MAX_MARKS = 20  # beyond, the last ones: a chart of more rules than that says nothing more
MARKED = ("lr", "pause", "branch", "patience", "min_delta")  # a resume is its pause's step: one rule
RATE_KINDS = ("lr", "branch")  # events that change the learning rate (old → new)


@dataclass(frozen=True)
class ChangeMark:
    """One label beside its rules: ``epoch`` the epoch its changes were made in (as the status
    names it), ``xs`` the rules (epoch axis, one per distinct position, the label at the first, or
    at the last when it goes left), ``text`` the joined labels, ``rate`` whether every change in it
    is the learning rate's (drawn in the rate's colour), ``left`` the side of the label
    (:func:`label_left`)."""

    epoch: int
    xs: tuple[float, ...]
    text: str
    rate: bool
    left: bool

    @property
    def x(self) -> float:
        """Where the label stands: beside its first rule, or its last when it goes left."""
        return self.xs[-1] if self.left else self.xs[0]


def label_left(x: float, x_range: tuple[float, float]) -> bool:
    """Whether a label beside the vertical line at ``x`` goes left of it: in the right half."""
    return x > (x_range[0] + x_range[1]) / 2


def event_x(step_epoch: np.ndarray, event, open_epoch: int | None) -> float:
    """Where ``event`` is drawn on the epoch axis: at its step, as the steps are drawn (the open
    epoch's length taken as the previous one's, as there); a branch after its best epoch."""
    epoch = event.epoch
    if event.kind == "branch":
        return epoch + 0.5
    first = int(np.searchsorted(step_epoch, epoch, side="left"))
    count = int(np.searchsorted(step_epoch, epoch, side="right")) - first
    if epoch == open_epoch:
        previous = int(np.searchsorted(step_epoch, epoch - 1, side="right"))
        count = max(count, previous - int(np.searchsorted(step_epoch, epoch - 1, side="left")))
    done = min(max(event.step - first, 0), count)
    return epoch - 0.5 + (done / count if count else 0.0)


def _explained(ratio: float, factors: list[float]) -> bool:
    """Whether some consecutive ``factors`` multiply to ``ratio`` (a rate change the events made)."""
    for start in range(len(factors)):
        product = 1.0
        for factor in factors[start:]:
            product *= factor
            if math.isclose(product, ratio, rel_tol=1e-6):
                return True
    return False


class EventMarks:
    """The chart's change marks of one run, kept as its events come: an event's position is settled
    once a later epoch has begun (its epoch's steps can no longer grow) and is not computed again;
    a frame recomputes only the events of the last epoch. O(new events) per frame, whatever the
    length of the history."""

    def __init__(self) -> None:
        self._reset(None)

    def _reset(self, events: list | None) -> None:
        self._events = events  # the history's list of events these marks follow
        self._done = 0  # the events settled: their marks are kept, not computed again
        self._settled: list[tuple[float, int, str, str]] = []  # (x, epoch, label, kind)
        self._rate_epochs: list[int] = []  # the settled learning-rate events' epochs (in order) ...
        self._rate_factors: list[float] = []  # ... and their new / old

    def _update(self, history, open_epoch: int | None) -> list[tuple[float, int, str, str]]:
        events = history.events
        if events is not self._events or len(events) < self._done:
            self._reset(events)
        latest = max(
            (e for e in (history.last_step_epoch, history.last_epoch, open_epoch) if e is not None), default=-1
        )
        step_epoch = history.step_epoch
        fresh: list[tuple[float, int, str, str]] = []
        for index in range(self._done, len(events)):
            event = events[index]
            mark = (event_x(step_epoch, event, open_epoch), event.epoch, event.label, event.kind)
            if event.epoch < latest and not fresh:  # settled, and so is every event before it
                self._done = index + 1
                self._settle(mark, event)
            else:
                fresh.append(mark)
        return self._settled + fresh

    def _settle(self, mark: tuple[float, int, str, str], event) -> None:
        if event.kind in RATE_KINDS:
            self._rate_epochs.append(event.epoch)
            self._rate_factors.append(event.new / event.old)
        if event.kind in MARKED:
            self._settled.append(mark)
            del self._settled[: -MAX_MARKS * 4]  # bounded: the chart shows the last MAX_MARKS labels

    def marks(
        self, history, open_epoch: int | None, rate_changes: list[tuple[int, float]], x_range: tuple[float, float]
    ) -> list[ChangeMark]:
        """The change marks of ``history`` (its events, and the recorded rate's changes
        ``rate_changes`` that no event explains), one label per epoch, the last :data:`MAX_MARKS`."""
        marks = [m for m in self._update(history, open_epoch) if m[3] in MARKED]
        fresh = [(e.epoch, e.new / e.old) for e in history.events[self._done :] if e.kind in RATE_KINDS]
        epochs, factors = self._rate_epochs, self._rate_factors
        for epoch, ratio in rate_changes:  # the rate epoch `epoch` began with: changed during it or the one before
            window = factors[bisect.bisect_left(epochs, epoch - 1) : bisect.bisect_right(epochs, epoch)]
            window += [factor for at, factor in fresh if epoch - 1 <= at <= epoch]
            if not _explained(ratio, window):
                marks.append((float(epoch), epoch, change_text(ratio), "lr"))
        return joined(marks, x_range)


def joined(marks: list[tuple[float, int, str, str]], x_range: tuple[float, float]) -> list[ChangeMark]:
    """(x, epoch, label, kind) marks as drawn: those of one epoch under one label, in x order, each
    inside the axis, the last :data:`MAX_MARKS`."""
    low, high = x_range
    groups: dict[int, list[tuple[float, str, str]]] = {}
    for x, epoch, text, kind in sorted(marks, key=lambda mark: mark[0]):
        groups.setdefault(epoch, []).append((min(max(x, low), high), text, kind))
    drawn = []
    for epoch, group in sorted(groups.items(), key=lambda item: item[1][0][0])[-MAX_MARKS:]:
        xs = tuple(dict.fromkeys(x for x, _, _ in group))
        text = ", ".join(dict.fromkeys(text for _, text, _ in group))
        rate = all(kind in RATE_KINDS for _, _, kind in group)
        drawn.append(ChangeMark(epoch, xs, text, rate, label_left(xs[0], x_range)))
    return drawn
