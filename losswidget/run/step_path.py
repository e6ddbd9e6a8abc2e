"""The per-step path: what a training loop pays between two optimisation steps.

It does as little as Python allows (``docs/architecture.md``, "Following one step"): a CPU scalar
tensor becomes a float with ``item()``, a fresh loss on a device is kept as a detached alias, and
everything else takes the recorder's validating path. Every distinct object touched between steps
costs cache misses in a real loop, so the state it reads is one slotted object, the recorder's
:class:`~losswidget.run.recorder.StepBuffer`, and the clock is read only when its countdown ends.
"""

from __future__ import annotations

import time
from typing import Any

from losswidget.core.values import may_alias
from losswidget.run.redraw import MAX_STEPS_PER_CLOCK

PENDING_LIMIT = 4096  # per-step values waiting for a frame (device tensors included)


class StepPath:
    """``log_step`` and ``check`` of :class:`~losswidget.run.monitor.LiveLossMonitor`.

    Uses the monitor's ``_steps`` (the step buffer), ``_recorder``, ``_display``, ``_stop``, ``_guards``,
    and its ``_check_requests()`` and ``_draw()``.
    """

    _steps: Any
    _recorder: Any
    _display: Any
    _stop: Any
    _guards: Any
    _check_requests: Any
    _draw: Any
    _steer: Any
    _replay: Any

    def log_step(self, train: Any) -> bool:
        """Record one optimisation step's training loss. Returns ``should_stop``.

        O(1), no drawing, no device synchronisation: tensors on an accelerator are kept
        detached and converted in bulk at the next frame. The common cases (a float, a
        one-element CPU tensor, a fresh loss on a device) take a short path.
        """
        steps = self._steps
        kind = type(train)
        if kind is float:
            value = train
        elif kind is steps.tensor_type and train.is_cpu:
            try:
                value = train.item()  # a Python number: no graph is kept alive
            except RuntimeError:  # more than one element: the slow path says what was wrong
                value = self._recorder.step_value(train)
            if type(value) is not float:
                value = self._recorder.step_value(train)
        elif (
            kind is steps.tensor_type
            and steps.alias_device
            and may_alias(train)  # a graph's result: a float or a complex, never an int or a bool
            and train.numel() == 1
            and not train.is_complex()
        ):
            value = train.detach()  # a fresh device loss, kept as it is: no device work
            steps.has_tensors = True
        else:  # validates, and says what was wrong
            value = self._recorder.step_value(train)
        steps.values.append(value)
        steps.until_clock -= 1
        if steps.until_clock <= 0:  # no clock read per step
            self._read_clock()
        if steps.steer:  # a learning-rate change or a pause is pending (run/steering.py)
            self._steer()
        return self._stop.requested

    def _read_clock(self) -> None:
        """Every few steps (about every 10 ms, at most 64 steps): bound the pending values, and
        take clicks and draw when due."""
        now = time.perf_counter()
        clock = self._display.clock
        self._steps.until_clock = clock.clock_read(now)
        if self._replay.pending:  # a replayed change due: the countdown ends at its step (run/replay_events.py)
            self._replay.at_clock()
        if len(self._steps.values) > PENDING_LIMIT - MAX_STEPS_PER_CLOCK:  # < PENDING_LIMIT whatever the frame rate
            self._recorder.flush_steps()
        if now >= clock.next_check_at:
            self._between_steps(now)

    def check(self) -> bool:
        """Between steps with nothing to log (a framework's step end): take clicks and control
        requests, draw if a frame is due. Returns ``should_stop``. O(1) between checks."""
        now = time.perf_counter()
        if now >= self._display.clock.next_check_at:
            self._between_steps(now)
        if self._steps.steer:
            self._steer()
        return self._stop.requested

    def _between_steps(self, now: float) -> None:
        """A few times a second while steps run: the teaching guard, control requests, a frame if due."""
        self._recorder.check_process()  # a DataLoader worker's copy is refused within a few steps
        self._guards.steps_logged()
        self._check_requests()
        self._maybe_frame(now)

    def _maybe_frame(self, now: float | None = None) -> None:
        now = time.perf_counter() if now is None else now
        clock = self._display.clock
        if clock.events_due(now):
            self._display.handle_events()
        if clock.frame_due(now):
            self._draw()
