"""A steered run replayed unattended: ``LiveLossMonitor(replay=history)`` applies the saved history's
learning-rate, patience and min_delta changes again, each at the epoch and step it was made at, so a
steered experiment becomes a script.

Each event says where it took effect: ``step`` steps had been recorded, in epoch ``epoch``. The
training thread applies it when the run gets there: in ``log_step`` (the step countdown that decides
when the clock is read is shortened to end exactly at the event's step, so the per-step path reads
nothing more) or at the top of an epoch of ``epochs()``. A learning-rate change is applied as its
factor (new / old), so that a scheduler stepped just before or after it gives the same rates. Each
is recorded again, with "replay" as its source. Pauses and resumes are not replayed (nobody would be
there to resume), nor a branch (its run began from another run's best epoch: replay that run, and
call ``monitor.branch()`` where it branched).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from losswidget.core.history import History

REPLAYED = ("lr", "patience", "min_delta")


def check_replay(replay: Any) -> list[Any]:
    """``replay=``: a History, or the path of a saved one; the events it replays, in order."""
    if replay is None:
        return []
    if isinstance(replay, (str, Path)):
        replay = History.load(replay)
    if not isinstance(replay, History):
        raise TypeError(
            f"'replay' must be a losswidget History (monitor.history, History.load(path)) or its file's path: "
            f"got {type(replay).__name__}"
        )
    return [event for event in replay.events if event.kind in REPLAYED]


class Replay:
    def __init__(self, events: list[Any], recorder: Any, steering: Any, settings: Any, stopper: Any) -> None:
        self._events = list(events)
        self._recorder, self._steering, self._settings, self._stopper = recorder, steering, settings, stopper
        self.pending = bool(self._events)  # the one attribute the clock read looks at

    def at_clock(self) -> None:
        """At a clock read of ``log_step``: apply what is due, and end the next countdown at the next event."""
        steps_left = self.apply_due()
        if steps_left is not None:
            steps = self._recorder.steps
            steps.until_clock = max(1, min(steps.until_clock, steps_left))

    def apply_due(self) -> int | None:
        """Apply the events whose epoch and step the run has reached (training thread); the steps until
        the next one's (None when none is left)."""
        recorder = self._recorder
        count = recorder.history.n_steps + len(recorder.steps.values)
        while self._events:
            event = self._events[0]
            if count < event.step or recorder.epoch_now < event.epoch:
                return max(1, event.step - count)
            self._events.pop(0)
            self._apply(event)
        self.pending = False
        return None

    def _apply(self, event: Any) -> None:
        if event.kind == "lr":
            self._steering.request_rate(None, event.new / event.old, "replay")
            self._steering.apply_rates()
            return
        if event.kind == "min_delta":
            old, self._stopper.min_delta = self._stopper.min_delta, event.new
            self._steering.setting_moved("min_delta", old, event.new, "replay")
        else:  # the patience first: moved while early stopping is off, it is no event of its own
            if event.new is not None:
                self._settings.from_control("patience", int(event.new), source="replay")
            self._settings.from_control("early_stopping", event.new is not None, source="replay")
        self._steering.record_settings()  # here, at this step: not at the next one
