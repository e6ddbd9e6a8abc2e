"""One ``epochs()`` loop's life: its start, each epoch's end, and how it ended, in words.

When the loop ends before its last epoch for any reason (Stop, ``stop()``, early stopping, ■,
an exception, a ``break``), the best epoch's weights come back: a generator cannot tell a
``break`` from an exception, and restoring is the safe side.
"""

from __future__ import annotations

import threading
import time
import warnings
from typing import Any

from losswidget.core.reasons import StopReason, sentence
from losswidget.core.stopping import EarlyStopping
from losswidget.core.words import number
from losswidget.run.best_weights import BestWeights
from losswidget.run.display import Display
from losswidget.run.recorder import Recorder
from losswidget.run.stop_control import StopControl


class Loop:
    def __init__(
        self,
        recorder: Recorder,
        stopper: EarlyStopping,
        stop: StopControl,
        best: BestWeights,
        display: Display,
        controls: Any,
    ) -> None:
        self._recorder, self._stopper, self._stop, self._best = recorder, stopper, stop, best
        self._display, self._controls = display, controls
        self._draw = display.draw
        self.active = False
        self.thread: int | None = None
        self.framework = False  # a framework's loop (begin_loop): its epochs are its own
        self.planned_last: int | None = None
        self.first_epoch = 0
        self.epochs_done = 0
        self.started = 0.0
        self.outcome: str | None = None
        self.paused_at: tuple[int, int] | None = None  # (epoch, step) while a pause holds the loop
        self._paused_since: float | None = None
        # How the user loads the best weights after a loop that ran to its end (fit's own monitor:
        # the caller holds no monitor, so fit says it another way).
        self.restore_hint = "monitor.restore_best() loads its weights"

    @property
    def elapsed(self) -> float:
        """Seconds this loop has trained: its pauses left out, so the ETA's pace is the training's."""
        return (time.monotonic() if self._paused_since is None else self._paused_since) - self.started

    def on_its_thread(self) -> bool:
        """The caller runs on this loop's training thread."""
        return self.thread == threading.get_ident()

    def pause_began(self, at: tuple[int, int]) -> None:
        self.paused_at, self._paused_since = at, time.monotonic()

    def pause_ended(self) -> None:
        if self._paused_since is not None:
            self.started += time.monotonic() - self._paused_since
        self.paused_at = self._paused_since = None

    def refuse_a_second(self) -> None:
        if self.active:
            raise RuntimeError(
                "this monitor's epochs() loop is already running: two loops of one monitor cannot run together "
                "(zip(monitor.epochs(...), monitor.epochs(...)) included); let the first one end, or use "
                "one monitor per run"
            )

    def begin(self, n: int, framework: bool = False) -> None:
        self.framework = framework
        self._stop.clear()
        self._stopper.resume()
        self.outcome = None
        self._best.restored_epoch = None
        start = self._recorder.next_epoch
        self.planned_last = start + n - 1 if n else None
        self.first_epoch, self.epochs_done, self.started = start, 0, time.monotonic()
        self.thread = threading.get_ident()  # the training thread: a change asked on it applies at once
        self._display.show(self._controls)
        self._display.loop_started()
        self.active = True
        self._draw()

    def epoch_logged_outside(self) -> None:
        """A ``log()`` with no epoch open: in a framework's loop (``begin_loop``) it is one epoch."""
        if self.active:
            self.epochs_done += 1

    def close_epoch(self) -> bool:
        """End the open epoch; True if anything was logged in it."""
        recorder = self._recorder
        epoch = recorder.current_epoch
        if not recorder.close_epoch():
            return False
        self.epochs_done += 1
        if recorder.steps_all_non_finite and self._stopper.check_finite:  # no epoch loss says so: the steps do
            self._stop.request(StopReason.NON_FINITE, sentence("steps diverged", epoch=epoch), epoch)
        return True

    def end(self, finished: bool, second_interrupt: bool) -> None:
        recorder = self._recorder
        try:
            left_early = not finished and not self._stop.is_set
            open_epoch = recorder.current_epoch if recorder.epoch_open else None
            self.close_epoch()
            self._best.settle()  # the best epoch's optimizer state, if the best moved in the last epoch
            if second_interrupt:
                self._stop.request(StopReason.INTERRUPTED, sentence("second interrupt"), open_epoch)
            if self._stop.is_set or left_early:
                self._best.restore()
            self._best.finish()
            self.outcome = self._describe_end(finished, left_early, open_epoch)
            recorder.write_end(self.outcome, None if self._stop.code is None else self._stop.code.value)
            if left_early and not second_interrupt:
                self._explain_after_cell(open_epoch)
        finally:
            self.active = False
            self._display.loop_ended()
            recorder.current_epoch = None
            try:
                self._draw(final=True, image_after_cell=True)
            except Exception as error:  # never hide the exception that ended the loop
                warnings.warn(f"losswidget: could not draw the final chart: {error!r}", stacklevel=3)

    def restored_text(self) -> str:
        epoch = self._best.restored_epoch
        return f" Best weights (epoch {epoch}) restored." if epoch is not None else ""

    def _describe_end(self, finished: bool, left_early: bool, open_epoch: int | None) -> str:
        if self._stop.is_set:
            return f"Stopped: {self._stop.message}.{self.restored_text()}"
        if left_early:
            return f"The loop ended early at epoch {open_epoch}.{self.restored_text()}"
        best, hint = self._stopper.best_epoch, ""
        if self._best.model is not None and best is not None and best != self._recorder.history.last_epoch:
            # The best epoch said once, with its value: the status adds no second sentence for it.
            hint = f" Best validation loss {number(self._stopper.best)} at epoch {best}: {self.restore_hint}."
        return f"Finished {self.epochs_done} epochs.{hint}"

    def _explain_after_cell(self, epoch: int | None) -> None:
        """Say whether an early end was an interrupt or an error, once the cell has finished."""

        def explain(result: Any) -> None:
            error = getattr(result, "error_in_exec", None)
            if isinstance(error, KeyboardInterrupt):
                self.outcome = f"Interrupted at epoch {epoch}.{self.restored_text()}"
            elif error is not None:
                self.outcome = f"Stopped by an error at epoch {epoch}: {type(error).__name__}: {error}."
                self.outcome += self.restored_text()
            else:
                return
            self._display.request_redraw(self.active, final=True)

        self._display.after_cell("explain", explain)

    def draw_after_cell(self) -> None:
        """Epochs logged outside epochs() are drawn at the frame rate; the cell's end draws the last
        state (with its static image), since no loop end will."""
        if self._display.view is not None:
            self._display.after_cell("draw", lambda result: None if self.active else self._draw(final=True))
