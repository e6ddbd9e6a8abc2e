"""Where steering held a run, as the chart marks it: each pause, a dotted line and "paused" at the
epoch it held in (its resume follows at the same step: nothing trains while paused). A learning-rate
change is marked by the rate panel ("lr ×0.5", :mod:`losswidget.chart.rates`), from the rate each
epoch trained with; the events themselves are ``history.events`` (:mod:`losswidget.core.events`)."""

from __future__ import annotations

MAX_MARKS = 20  # beyond, the last ones: a chart of more pause lines than that says nothing more


def pause_marks(history) -> list[tuple[float, str]]:
    """(x on the epoch axis, label) for each pause in ``history``; O(events), not O(history)."""
    marks = [(float(event.epoch), event.label) for event in history.events if event.kind == "pause"]
    return marks[-MAX_MARKS:]
