"""Steering a running training from code: stop, pause, resume, the learning rate. Each call only
requests; the training thread applies it at its next step (``log_step``) or epoch boundary
(:mod:`losswidget.run.steering`), so every call is safe from any thread. The widget's buttons
request the same things, with "control" as their source."""

from __future__ import annotations

import math
from typing import Any

from losswidget.core.reasons import StopReason, sentence
from losswidget.model import lr_steer


class SteerFace:
    """``stop``, ``pause``, ``resume``, ``paused``, ``learning_rate`` and ``set_learning_rate`` of
    :class:`~losswidget.run.monitor.LiveLossMonitor` (its ``_stop``, ``_steering``, ``_loop``,
    ``_steps`` and ``_recorder``)."""

    _stop: Any
    _steering: Any
    _loop: Any
    _steps: Any
    _recorder: Any
    _request_redraw: Any
    _check_requests: Any
    _maybe_frame: Any

    def stop(self, reason: str | None = None) -> None:
        """Ask the loop to stop at the end of the current epoch. Safe from any thread."""
        if reason is not None and not isinstance(reason, str):
            raise TypeError(f"'reason' must be a string or None: {reason!r}")
        self._stop.request(StopReason.USER, reason or sentence("stop()"), self._recorder.current_epoch)
        self._request_redraw()

    def _press_stop(self) -> None:
        self._stop.request(StopReason.USER, sentence("button"), self._recorder.current_epoch)
        self._request_redraw()

    def pause(self) -> None:
        """Hold the training at its next ``log_step`` (without per-step logging: before the next
        epoch) until :meth:`resume`; Stop, the sliders and the learning rate still work while it
        holds, and the pause is left out of the elapsed time and the ETA. Safe from any thread."""
        if self._steering.unavailable:
            raise RuntimeError(f"cannot pause: {self._steering.unavailable}")
        self._steering.request_pause("api")
        self._request_redraw()

    def resume(self) -> None:
        """Let a paused training go on. Safe from any thread."""
        self._steering.request_resume("api")
        self._request_redraw()

    @property
    def paused(self) -> bool:
        """A pause is asked for or holds the loop now."""
        return self._steering.pause_wanted

    @property
    def learning_rate(self) -> float | None:
        """The optimizer's learning rate now (its first parameter group's); None without a torch optimizer."""
        return lr_steer.current_rate(self._steering.optimizer)

    def set_learning_rate(self, value: float | None = None, *, factor: float | None = None) -> None:
        """Change the learning rate from the next optimizer step: to ``value`` (the first parameter
        group's; the others keep their ratios to it), or by ``factor`` (``factor=0.5`` halves every
        group's). A running torch scheduler goes on from the new rate, its schedule scaled with it
        (:mod:`losswidget.model.lr_steer`). Applied by the training thread at its next ``log_step``
        or epoch boundary (at once when no loop runs), and recorded in ``history.events``."""
        if (value is None) == (factor is None):
            raise TypeError(
                f"set_learning_rate() needs exactly one of 'value' or 'factor': got value={value!r}, factor={factor!r}"
            )
        name, number = ("value", value) if value is not None else ("factor", factor)
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number) or number <= 0:
            raise ValueError(f"{name!r} must be a positive finite number: {number!r}")
        reason = lr_steer.unavailable_reason(self._steering.optimizer)
        if reason is not None:
            raise RuntimeError(f"the learning rate cannot be changed: {reason}")
        self._steering.request_rate(
            None if value is None else float(value), None if factor is None else float(factor), "api"
        )
        if not self._loop.active:  # no training thread to take it: this one is the loop's
            self._steering.apply_rates()
        elif self._loop.on_its_thread() and self._recorder.before_first_step:
            # The loop's own code at the top of an epoch: the epoch trains with the new rate from its
            # first step, and it is the rate recorded for it (not the next epoch's).
            self._steering.apply_rates()
            self._recorder.note_rates()

    def _steer(self) -> None:
        """On the training thread, where a step or an epoch ends: what ``steer`` says is pending."""
        if self._steps.steer:
            self._steering.take(self._while_paused)

    def _while_paused(self) -> None:
        self._check_requests()  # a watcher's requests, and learning-rate changes
        self._maybe_frame()  # clicks (the pump, where it runs) and frames: the status says Paused
