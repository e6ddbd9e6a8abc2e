"""Steering a running training: a learning-rate change and a pause, requested from anywhere, applied
by the training thread.

A request (the widget's buttons on a kernel-subshell thread, ``monitor.pause()`` from another
thread, the loop itself) only sets a value and the step buffer's ``steer`` flag; the training thread
reads that one flag in ``log_step`` (its only cost per step) and at each epoch boundary, and then
applies what is pending here: each learning-rate change (:mod:`losswidget.model.lr_steer`), then a
pause, which holds the training thread until Resume or Stop. Each one is recorded as an
:class:`~losswidget.core.events.Event` in the history and every output.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

from losswidget.core.events import SOURCES, Event  # SOURCES: a change's origin, by number across ranks
from losswidget.core.validate import user_stacklevel
from losswidget.model import lr_steer

PAUSE_POLL = 0.05  # seconds between two looks at clicks, requests and frames while paused


def steering_sentence(paused_at: tuple[int, int] | None, events: list[Event]) -> str:
    """The status line's word on steering: the pause that holds the loop now, else the last
    learning-rate change or branch ("" when neither)."""
    if paused_at is not None:
        epoch, step = paused_at
        return f"Paused at epoch {epoch}, step {step}: Resume continues the training; Stop ends it."
    changes = [event for event in events if event.kind in ("lr", "branch")]
    return changes[-1].sentence if changes else ""


class Steering:
    def __init__(self, recorder: Any, stop: Any, loop: Any, redraw: Callable[[], None], ranks: Any = None) -> None:
        self._recorder, self._stop, self._loop, self._redraw = recorder, stop, loop, redraw
        # Under DDP a learning-rate change waits for the epoch boundary, where the ranks agree on it
        # (:meth:`agree_rates`); a pause would hold the other ranks in their next collective (where a
        # Stop could not reach them, and which times out), and a branch needs every rank's snapshot.
        self._ranks = ranks
        self.unavailable = (
            None if ranks is None else "not available under DDP (the other ranks would wait in a collective)"
        )
        self._steps = recorder.steps
        self._lock = threading.Lock()
        self._rate_requests: list[tuple[float | None, float | None, str]] = []  # (value, factor, source)
        self._setting_events: list[tuple[str, float | None, float | None, str]] = []  # (kind, old, new, source)
        self.branch_request: tuple[float | None, float | None, str | None, str] | None = None
        self.branch_problem: Callable[[], str | None] = lambda: None  # the monitor's branch_unavailable
        self.pause_wanted = False
        self._sources = {"pause": "api", "resume": "api"}
        self._wake = threading.Event()
        self._holding = False

    @property
    def optimizer(self) -> Any:
        return getattr(self._recorder.rates, "optimizer", None)

    # -- requests (any thread: a value and the flag, nothing more) -------------------------

    def request_rate(self, value: float | None, factor: float | None, source: str) -> None:
        with self._lock:
            self._rate_requests.append((value, factor, source))
        self._steps.steer = True

    def request_branch(self, value: float | None, factor: float | None, name: str | None, source: str) -> None:
        """Back to the best epoch, at the next epoch boundary (``run/branch_face``); a later request
        replaces one not yet taken."""
        self.branch_request = (value, factor, name, source)

    def take_branch(self) -> tuple[float | None, float | None, str | None, str] | None:
        request, self.branch_request = self.branch_request, None
        return request

    def setting_moved(self, kind: str, old: float | None, new: float | None, source: str) -> None:
        """A patience or min_delta moved (it acts at once: the settings own it): recorded as an event by
        the training thread at its next step or epoch boundary, at once when no loop runs."""
        if old == new:
            return
        with self._lock:
            self._setting_events.append((kind, old, new, source))
        self._steps.steer = True
        if not self._loop.active:
            self.record_settings()

    def record_settings(self) -> None:
        with self._lock:
            moved, self._setting_events = self._setting_events, []
        for kind, old, new, source in moved:
            self._record(kind, source, old, new)

    def request_pause(self, source: str) -> None:
        if self.unavailable:  # under DDP (monitor.pause() raises; a button or a watcher's file cannot)
            return
        self._sources["pause"] = source
        self.pause_wanted = True
        self._steps.steer = True

    def request_resume(self, source: str) -> None:
        self._sources["resume"] = source
        self.pause_wanted = False
        self._wake.set()

    # -- the training thread ------------------------------------------------------------------

    def take(self, tick: Callable[[], None]) -> None:
        """At a step or epoch boundary: apply the pending changes, then hold while paused. ``tick``
        (while paused): clicks, a watcher's requests and frames, as between steps."""
        self._steps.steer = False  # first: a request made from here on sets it again
        self.record_settings()
        self.apply_rates()
        if self.pause_wanted and not self._holding:
            self._hold(tick)

    def apply_rates(self) -> None:
        """The pending learning-rate changes, in order. Under DDP only where no loop runs (a call every
        rank makes, as a script's code does); in a loop the ranks agree at its epoch boundary
        (:meth:`agree_rates`)."""
        if self._ranks is not None and self._loop.active:
            return
        with self._lock:
            requests, self._rate_requests = self._rate_requests, []
        self._apply(requests)

    def _apply(self, requests: list[tuple[float | None, float | None, str]]) -> None:
        for value, factor, source in requests:
            optimizer = self.optimizer
            reason = lr_steer.unavailable_reason(optimizer)
            if reason is not None:  # the optimizer went away after the request was accepted
                warnings.warn(f"losswidget: the learning rate was not changed: {reason}", stacklevel=user_stacklevel())
                continue
            old = lr_steer.current_rate(optimizer)
            lr_steer.scale(optimizer, value / old if value is not None else factor)  # type: ignore[operator]
            self._record("lr", source, old, lr_steer.current_rate(optimizer))

    def agree_rates(self) -> None:
        """Under DDP, at each epoch boundary on every rank (one all-gather): the learning-rate changes
        of the lowest rank that asked for any (rank 0's buttons and watcher; the same call on every
        rank, as a script's code makes it, counts once) become every rank's, at this boundary."""
        if self._ranks is None:
            return
        with self._lock:  # taken at once: a click from here on waits for the next boundary
            mine, self._rate_requests = self._rate_requests, []
        current = lr_steer.current_rate(self.optimizer) if self.optimizer is not None else None
        factor = 1.0
        for value, step, _ in mine:
            factor *= (value / current) if value is not None and current else (step or 1.0)
        source = SOURCES.index(mine[-1][2]) if mine else 0
        rows = self._ranks.gather([1.0 if mine else 0.0, factor, float(source)])
        asked = next((row for row in rows if row[0] > 0), None)
        if asked is not None:
            self._apply([(None, asked[1], SOURCES[int(asked[2])])])

    def _hold(self, tick: Callable[[], None]) -> None:
        self._holding = True
        resumed = False
        try:
            at = self._record("pause", self._sources["pause"])
            self._loop.pause_began(at)
            while self.pause_wanted and not self._stop.requested:
                tick()
                self._wake.wait(PAUSE_POLL)
                self._wake.clear()
            resumed = not self._stop.requested
        finally:
            self._loop.pause_ended()
            self._holding = False
            self.pause_wanted = False  # a Stop while paused ends the pause with the run
        if resumed:
            self._record("resume", self._sources["resume"])

    def _record(self, kind: str, source: str, old: float | None = None, new: float | None = None) -> tuple[int, int]:
        """The event, into the history and every output, where the training is now: (epoch, step)."""
        recorder = self._recorder
        with recorder.lock:
            epoch, step = recorder.epoch_now, recorder.history.n_steps + len(self._steps.values)
            event = Event(kind, epoch, step, old, new, source)
            recorder.history.events.append(event)
            recorder.outputs.event(event)
        self._redraw()
        return epoch, step

    def rate_control(self) -> tuple[bool, str]:
        """Whether the learning-rate buttons can act, and what they say (their tooltip): what a change
        does, or why there is none."""
        reason = lr_steer.unavailable_reason(self.optimizer)
        if reason is not None:
            return False, f"No learning-rate control: {reason}."
        return True, lr_steer.CONTROL_TEXT + (" (under DDP: at the next epoch, on every rank)" if self._ranks else "")
