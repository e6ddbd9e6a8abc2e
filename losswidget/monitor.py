"""LiveLossMonitor: the public loop API, orchestrating history, early stopping and a view.

Threads: the training loop (main thread, or a background thread with
:meth:`LiveLossMonitor.start`) owns the history and draws frames. Widget
handlers may run on other threads (kernel subshells): they only set an Event or
a value and ask for a redraw, which the loop performs at its next frame (or the
handler itself when no loop is running).
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from losswidget import frame as frames
from losswidget._validate import check_bool, check_choice, check_float, check_int
from losswidget.control import ControlFile
from losswidget.diagnosis import diagnose
from losswidget.distributed import Ranks
from losswidget.history import History, check_metric_name
from losswidget.history_files import HistoryWriter
from losswidget.kernel_events import (
    REGIME_TEXT,
    ControlChannel,
    InterruptAsStop,
    SignalsDeferred,
    after_cell,
    current_kernel,
    enable_colab_widgets,
)
from losswidget.stopping import EarlyStopping, StopReason
from losswidget.values import detach_scalar, is_tensor, tensors_to_floats, to_float
from losswidget.weights import check_model, restore, save_state, snapshot

__all__ = ["LiveLossMonitor"]

# With early stopping off, the stopper still tracks the best value and NaNs.
_NEVER = 2**31 - 1
MAX_SMOOTHING = 100_000
MAX_PATIENCE = 1_000_000
DRAW_BUDGET = 0.02  # drawing may take at most this share of the training time
PUMP_INTERVAL = 0.05


class LiveLossMonitor:
    """A live chart of train/validation loss around a PyTorch loop, with early stopping.

    >>> monitor = LiveLossMonitor(patience=5, smoothing=3, model=model)   # doctest: +SKIP
    >>> monitor                                   # show it (last expression of a cell)
    >>> for epoch in monitor.epochs(100):
    ...     for xb, yb in train_loader:
    ...         ...
    ...         monitor.log_step(train=loss)      # optional, per step; returns should_stop
    ...     monitor.log(train=train_loss, val=val_loss, acc=acc)

    Semantics (DESIGN.md §3):

    - ``log()`` inside ``epochs()`` belongs to the current epoch; outside, each call
      is a new epoch. Logging a name twice in one epoch keeps the latest value, with
      a warning. Values logged after a stop are still recorded.
    - Early stopping is decided when an epoch's ``val`` is logged: ``should_stop``
      is true right after that ``log()`` and ``epochs()`` ends before the next epoch.
      ``patience=None`` turns it off (the patience slider then shows where it would
      have stopped); a non-finite loss still stops unless ``check_finite=False``.
    - Stop button, ``stop()``, early stopping, the kernel interrupt (■, first press)
      all end the loop gracefully. When the loop ends before its last epoch for any
      reason and a ``model`` was given, the best epoch's weights are loaded back.
      Calling ``epochs()`` again continues, with continued epoch numbers.
    """

    def __init__(
        self,
        patience: int | None = 5,
        min_delta: float = 0.0,
        smoothing: int = 1,
        model: Any = None,
        log_file: str | Path | None = None,
        *,
        best_weights_file: str | Path | None = None,
        check_finite: bool = True,
        start_from_epoch: int = 0,
        name: str | None = None,
        display: str = "auto",
        frame_rate: float = 5.0,
        max_points: int = 2000,
    ) -> None:
        if patience is not None:
            patience = check_int("patience", patience, minimum=0, maximum=MAX_PATIENCE)
        smoothing = check_int("smoothing", smoothing, minimum=1, maximum=MAX_SMOOTHING)
        check_choice("display", display, ("auto", "widget", "text", "none"))
        frame_rate = check_float("frame_rate", frame_rate, minimum=0.01)
        max_points = check_int("max_points", max_points, minimum=16, maximum=1_000_000)
        if name is not None and not isinstance(name, str):
            raise TypeError(f"'name' must be a string or None: {name!r}")
        self._stopper = EarlyStopping(
            patience=_NEVER if patience is None else patience,
            min_delta=min_delta,
            start_from_epoch=start_from_epoch,
            check_finite=check_bool("check_finite", check_finite),
        )
        self._model = None
        self._mode_hook: Any = None
        self._train_mode_without_grad = False
        self._attach_model(model)
        self._ranks = Ranks.detect()
        if self._ranks is not None and self._ranks.rank != 0:
            display, log_file, best_weights_file = "none", None, None  # rank 0 draws and writes
        if best_weights_file is not None and not isinstance(best_weights_file, (str, Path)):
            raise TypeError(f"'best_weights_file' must be a path: got {type(best_weights_file).__name__}")
        self._best_weights_file = None if best_weights_file is None else Path(best_weights_file)
        self._writer = HistoryWriter(log_file, name) if log_file is not None else None
        self._control = ControlFile(log_file) if log_file is not None else None

        self.history = History(name)
        self._early_stopping = patience is not None
        self._what_if_patience = patience if patience is not None else 5
        self._smoothing = smoothing
        self._log_y = False
        self._display_mode = display
        self._frame_interval = 1.0 / frame_rate
        self._chart = frames.ChartModel(max_points)
        self._past: list[History] = []

        self._draw_lock = threading.RLock()
        self._stop_event = threading.Event()
        self._stop_requested = False  # mirrors the event; a plain read in the per-step path
        self._local_stop: tuple | None = None  # with several ranks: waits for the epoch boundary
        self._tensor_type: type | None = None
        self._next_check_at = 0.0
        self._stop_code: StopReason | None = None
        self._stop_message: str | None = None
        self._stop_epoch: int | None = None
        self._outcome: str | None = None

        self._pending: list[Any] = []
        self._pending_tensors = False
        self._next_epoch = 0
        self._epoch_open = False
        self._current_epoch: int | None = None
        self._stopper_before_epoch: dict | None = None
        self._warned: set[str] = set()
        self._after_cell_pending: set[str] = set()

        self._loop_active = False
        self._loop_thread: threading.Thread | None = None
        self._planned_last: int | None = None
        self._loop_started = 0.0
        self._loop_first_epoch = 0
        self._epochs_done_in_loop = 0
        self._next_frame_at = 0.0
        self._next_pump_at = 0.0
        self.frame_seconds = 0.0  # Python-side cost of the last frame
        self._dirty = False

        self._best_state: dict | None = None
        self._best_state_epoch: int | None = None
        self._restored_epoch: int | None = None
        self._diagnosis_key: tuple | None = None
        self._diagnosis_text = ""

        self._view: Any = None
        self._channel: ControlChannel | None = None
        self._regime = "terminal"
        self._background: threading.Thread | None = None
        self._background_result: Any = None
        self._background_error: BaseException | None = None

    # -- public state ----------------------------------------------------------------

    @property
    def patience(self) -> int | None:
        """Early-stopping patience (None: off). Assignable; counts from the next validation value."""
        return self._stopper.patience if self._early_stopping else None

    @patience.setter
    def patience(self, value: int | None) -> None:
        if value is None:
            self._early_stopping = False
            self._stopper.patience = _NEVER
        else:
            value = check_int("patience", value, minimum=0, maximum=MAX_PATIENCE)
            self._stopper.patience = value
            self._early_stopping = True
            self._what_if_patience = value
        self._sync_controls()
        self._request_redraw()

    @property
    def model(self) -> Any:
        """The model whose best weights are kept and restored (None: no weights tracking)."""
        return self._model

    @model.setter
    def model(self, value: Any) -> None:
        self._attach_model(value)

    @property
    def what_if_patience(self) -> int:
        """The patience whose stopping point the chart marks (the slider's value)."""
        return self._what_if_patience

    @property
    def smoothing(self) -> int:
        """Trailing window, in points, of the smoothed lines. Assignable."""
        return self._smoothing

    @smoothing.setter
    def smoothing(self, value: int) -> None:
        self._smoothing = check_int("smoothing", value, minimum=1, maximum=MAX_SMOOTHING)
        self._sync_controls()
        self._request_redraw()

    @property
    def log_scale(self) -> bool:
        return self._log_y

    @log_scale.setter
    def log_scale(self, value: bool) -> None:
        self._log_y = check_bool("log_scale", value)
        self._sync_controls()
        self._request_redraw()

    @property
    def should_stop(self) -> bool:
        return self._stop_event.is_set()

    @property
    def stopped_reason(self) -> str | None:
        return self._stop_message

    @property
    def stop_code(self) -> StopReason | None:
        return self._stop_code

    @property
    def best_epoch(self) -> int | None:
        return self.history.best_epoch("val")

    @property
    def early_stopping(self) -> EarlyStopping:
        """The underlying decision object (its ``state_dict()`` resumes a run)."""
        return self._stopper

    @property
    def regime(self) -> str:
        """How clicks reach the kernel now: subshell, pump, thread, interrupt or terminal."""
        return self._regime

    @property
    def runs(self) -> list[History]:
        """Earlier runs shown faded for comparison (see :meth:`new_run`, :meth:`add_run`)."""
        return list(self._past)

    @property
    def status_lines(self) -> list[str]:
        return self._status_lines()

    # -- the loop --------------------------------------------------------------------

    def epochs(self, n: int) -> Iterator[int]:
        """Yield epoch numbers for ``n`` epochs, continuing the numbering of earlier loops.

        Ends early on Stop, :meth:`stop`, early stopping or the kernel interrupt.
        """
        n = check_int("n", n, minimum=0)
        if self._loop_active:
            raise RuntimeError(
                "this monitor's epochs() loop is already running; finish it (or call stop()) before starting another"
            )
        return self._epoch_loop(n)

    def _epoch_loop(self, n: int) -> Iterator[int]:
        finished = False
        guard = InterruptAsStop(self._on_interrupt)
        try:
            with guard:
                self._begin_loop(n)
                for epoch in range(self._next_epoch, self._next_epoch + n):
                    self._poll_control()
                    if self._ranks is not None:
                        self._agree_on_stop()
                    if self.should_stop:
                        break
                    self._open_epoch(epoch)
                    yield epoch
                    self._close_epoch()
                else:
                    finished = True
        finally:
            self._end_loop(finished, second_interrupt=guard.interrupted and not finished and not self.should_stop)

    def log(self, train: Any = None, val: Any = None, **metrics: Any) -> bool:
        """Record one epoch's values (several calls in one epoch merge). Returns ``should_stop``."""
        given = {name: value for name, value in (("train", train), ("val", val)) if value is not None}
        given.update(metrics)
        if not given:
            raise TypeError("log() needs at least one value, e.g. monitor.log(train=0.52, val=0.61)")
        converted = {check_metric_name(name): to_float(value, name) for name, value in given.items()}
        if self._ranks is not None:
            converted = self._ranks.average(converted)  # one collective per log() call
        if val is not None and is_tensor(val) and getattr(val, "requires_grad", False):
            self._warn_once(
                "val-grad",
                "losswidget: the validation loss was computed with gradients enabled: wrap evaluation "
                "in torch.no_grad() (or use lw.evaluate) to save memory and time",
            )
        if val is not None and self._train_mode_without_grad:
            self._check_mode("train-val")
        self._train_mode_without_grad = False
        epoch = self._current_epoch if self._epoch_open else self._next_epoch
        if not self._epoch_open:
            self._flush_steps()
        replaced = self.history.log_epoch(epoch, converted)
        for name in replaced:
            self._warn_once(
                f"twice-{name}",
                f"losswidget: {name!r} was logged twice for epoch {epoch}; keeping the latest value "
                "(log each value once per epoch)",
            )
        if self._writer is not None:
            self._writer.write_epoch({"epoch": epoch, **converted})
        self._check_values(epoch, converted, relogged_val="val" in replaced)
        if not self._epoch_open:
            self._next_epoch = epoch + 1
            if not self._loop_active:
                self._draw_after_cell()
        self._maybe_frame()
        return self.should_stop

    def log_step(self, train: Any) -> bool:
        """Record one optimisation step's training loss. Returns ``should_stop``.

        O(1), no drawing, no device synchronisation: tensors on an accelerator are
        kept detached and converted in bulk at the next frame. Runs once per step,
        so the common cases (a float, a one-element CPU tensor) take a short path.
        """
        kind = type(train)
        if kind is float:
            value = train
        elif kind is self._tensor_type and train.is_cpu and train.numel() == 1:
            value = train.item()  # a Python number: no graph is kept alive
            if type(value) is not float:
                value = self._step_value(train)
        else:
            value = self._step_value(train)
        self._pending.append(value)
        now = time.perf_counter()
        if now >= self._next_check_at:
            self._step_checks(now)
        return self._stop_requested

    def _step_value(self, train: Any) -> Any:
        value = detach_scalar(train, "train")
        if is_tensor(train) and type(train).__name__ == "Tensor":
            self._tensor_type = type(train)
        if not isinstance(value, float):
            self._pending_tensors = True
        return value

    def _step_checks(self, now: float) -> None:
        """At most every PUMP_INTERVAL: teaching guard, UI events, requests, a frame when one is due."""
        if self._model is not None and not self._model.training and "eval-steps" not in self._warned:
            self._check_mode("eval-steps")
        self._poll_control()
        self._maybe_frame(now=now)

    def _poll_control(self) -> None:
        """Apply a stop or patience request written by a watcher in another process."""
        request = self._control.poll() if self._control is not None else None
        if not request:
            return
        patience = request.get("patience")
        if isinstance(patience, int) and not isinstance(patience, bool) and patience >= 0:
            self._ui_patience(patience)
        stop = request.get("stop")
        if isinstance(stop, dict):
            reason = stop.get("reason") if isinstance(stop.get("reason"), str) else "a watcher asked to stop"
            self._request_stop(StopReason.USER, reason, self._current_epoch)

    def stop(self, reason: str | None = None) -> None:
        """Ask the loop to stop at the end of the current epoch. Safe from any thread."""
        if reason is not None and not isinstance(reason, str):
            raise TypeError(f"'reason' must be a string or None: {reason!r}")
        self._request_stop(StopReason.USER, reason or "stop() was called", self._current_epoch)
        self._request_redraw()

    def restore_best(self) -> int:
        """Load the best epoch's weights into the model; returns that epoch."""
        if self._model is None:
            raise RuntimeError("no model to restore: pass model=... to LiveLossMonitor")
        if self._best_state is None:
            raise RuntimeError("no best weights yet: log a finite validation loss first")
        restore(self._model, self._best_state)
        self._restored_epoch = self._best_state_epoch
        self._request_redraw()
        return self._best_state_epoch  # type: ignore[return-value]

    # -- runs ------------------------------------------------------------------------

    def new_run(self, name: str | None = None, model: Any = None) -> LiveLossMonitor:
        """Start a fresh run; the current one stays on the chart, faded, for comparison."""
        if self._loop_active:
            raise RuntimeError("cannot start a new run while epochs() is running")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"'name' must be a string or None: {name!r}")
        if model is not None:
            self._attach_model(model)
        self._flush_steps()
        if len(self.history):
            if not self.history.name:
                self.history.name = f"run {len(self._past) + 1}"
            self._past.append(self.history)
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.history = History(name)
        self._stopper.reset()
        self._chart.reset()
        self._next_epoch = 0
        self._best_state = self._best_state_epoch = self._restored_epoch = None
        self._clear_stop()
        self._outcome = None
        self._request_redraw()
        return self

    def add_run(self, history: History, name: str | None = None) -> None:
        """Show a finished or loaded History, faded, next to the live run."""
        if not isinstance(history, History):
            raise TypeError(f"'history' must be a losswidget History: got {type(history).__name__}")
        shown = history.copy()
        shown.name = name or history.name or f"run {len(self._past) + 1}"
        self._past.append(shown)
        self._request_redraw()

    # -- background mode -------------------------------------------------------------

    def start(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> LiveLossMonitor:
        """Run ``function(*args, **kwargs)`` in a background thread; the cell returns at once.

        The function trains with this monitor as usual (``epochs()``/``log()``).
        :meth:`wait` joins it, returning its result or raising its exception.
        """
        if not callable(function):
            raise TypeError(f"'function' must be callable: got {type(function).__name__}")
        if self._background is not None and self._background.is_alive():
            raise RuntimeError("a background run is already going; wait() for it or stop() it first")
        self._background_result = self._background_error = None
        self._show_if_needed()

        def run() -> None:
            try:
                self._background_result = function(*args, **kwargs)
            except BaseException as error:  # re-raised by wait()
                self._background_error = error
                self._outcome = f"The background run failed: {type(error).__name__}: {error}"
                self._request_redraw()

        self._background = threading.Thread(target=run, name="losswidget-training", daemon=True)
        self._background.start()
        return self

    @property
    def running(self) -> bool:
        return self._loop_active or (self._background is not None and self._background.is_alive())

    def wait(self, timeout: float | None = None) -> Any:
        """Wait for the background run; return its result or raise its exception."""
        if self._background is None:
            raise RuntimeError("nothing to wait for: start(function) runs training in the background")
        if timeout is not None:
            timeout = check_float("timeout", timeout, minimum=0.0)
        self._background.join(timeout)
        if self._background.is_alive():
            raise TimeoutError(f"the background run is still going after {timeout} s")
        if self._background_error is not None:
            raise self._background_error
        return self._background_result

    # -- display ---------------------------------------------------------------------

    def _ipython_display_(self) -> None:
        self._ensure_view()
        if self._view is not None:
            self._view.show()
            self._draw()

    def __repr__(self) -> str:
        epochs = len(self.history)
        best = self.best_epoch
        state = "running" if self._loop_active else ("stopped" if self.should_stop else "idle")
        return f"<LiveLossMonitor {state}: {epochs} epochs, best epoch {best}, patience {self.patience}>"

    def _ensure_view(self) -> None:
        if self._view is not None or self._display_mode == "none":
            return
        mode = self._display_mode
        if mode == "auto":
            mode = "widget" if current_kernel() is not None else "text"
        if mode == "widget":
            from losswidget.view_widget import WidgetView

            problem = enable_colab_widgets()
            if problem:
                warnings.warn(problem, stacklevel=3)
            self._view = WidgetView(self)
            self._channel = ControlChannel()
            self._channel.attach(self._view.controls)
        else:
            from losswidget.view_text import TextView

            self._view = TextView()

    def _show_if_needed(self) -> None:
        self._ensure_view()
        if self._view is not None and not self._view.shown:
            self._view.show()

    # -- controls (called by the view; may run on any thread) --------------------------

    def _ui_stop(self) -> None:
        self._request_stop(StopReason.USER, "the Stop button was pressed", self._current_epoch)
        self._request_redraw()

    def _ui_patience(self, value: int) -> None:
        value = min(max(int(value), 0), MAX_PATIENCE)
        self._what_if_patience = value
        if self._early_stopping:
            self._stopper.patience = value
        self._request_redraw()

    def _ui_smoothing(self, value: int) -> None:
        self._smoothing = min(max(int(value), 1), MAX_SMOOTHING)
        self._request_redraw()

    def _ui_log_scale(self, value: bool) -> None:
        self._log_y = bool(value)
        self._request_redraw()

    def _sync_controls(self) -> None:
        if self._view is not None:
            self._view.sync_controls(self._what_if_patience, self._smoothing, self._log_y)

    # -- internals: epochs -----------------------------------------------------------

    def _begin_loop(self, n: int) -> None:
        self._clear_stop()
        self._outcome = None
        self._restored_epoch = None
        self._planned_last = self._next_epoch + n - 1 if n else None
        self._loop_first_epoch = self._next_epoch
        self._epochs_done_in_loop = 0
        self._loop_started = time.monotonic()
        self._show_if_needed()
        self._regime = self._channel.regime() if self._channel else ("thread" if not _on_main() else "terminal")
        self._loop_thread = threading.current_thread()
        self._loop_active = True
        self._draw()

    def _open_epoch(self, epoch: int) -> None:
        self._flush_steps()
        self._current_epoch = epoch
        self._stopper_before_epoch = None
        self._epoch_open = True

    def _close_epoch(self, draw: bool = True) -> None:
        self._flush_steps()
        if not self._epoch_open:
            return
        epoch = self._current_epoch
        self._epoch_open = False
        recorded = self.history.last_epoch == epoch or (
            self.history.n_steps > 0 and self.history.step_epoch[-1] == epoch
        )
        if not recorded:  # nothing was logged: the next epoch reuses this number
            return
        self._next_epoch = epoch + 1
        self._epochs_done_in_loop += 1
        if self.history.last_epoch != epoch or math.isnan(self.history.train[-1]):
            self._fill_train_from_steps(epoch)
        if draw:
            self._maybe_frame()

    def _fill_train_from_steps(self, epoch: int) -> None:
        """An epoch without a logged train loss gets the mean of its finite step losses."""
        first = int(np.searchsorted(self.history.step_epoch, epoch, side="left"))
        last = int(np.searchsorted(self.history.step_epoch, epoch, side="right"))
        steps = self.history.step_train[first:last]
        finite = steps[np.isfinite(steps)]
        if finite.size:
            values = {"train": float(finite.mean())}
            self.history.log_epoch(epoch, values)
            if self._writer is not None:
                self._writer.write_epoch({"epoch": epoch, **values})

    def _end_loop(self, finished: bool, second_interrupt: bool) -> None:
        try:
            left_early = not finished and not self.should_stop
            open_epoch = self._current_epoch if self._epoch_open else None
            self._close_epoch(draw=False)
            if second_interrupt:
                self._request_stop(StopReason.INTERRUPTED, "the kernel was interrupted twice", open_epoch)
            stopped = self.should_stop
            if (stopped or left_early) and self._model is not None and self._best_state is not None:
                restore(self._model, self._best_state)
                self._restored_epoch = self._best_state_epoch
            self._outcome = self._describe_end(finished, left_early, open_epoch)
            if self._writer is not None:
                self._writer.write_end(self._outcome, None if self._stop_code is None else self._stop_code.value)
            if left_early and not second_interrupt:
                self._explain_after_cell(open_epoch)
        finally:
            self._loop_active = False
            self._loop_thread = None
            self._current_epoch = None
            try:
                self._draw(final=True)
            except Exception as error:  # never hide the exception that ended the loop
                warnings.warn(f"losswidget: could not draw the final chart: {error!r}", stacklevel=2)

    def _restored_text(self) -> str:
        return f" Best weights (epoch {self._restored_epoch}) restored." if self._restored_epoch is not None else ""

    def _describe_end(self, finished: bool, left_early: bool, open_epoch: int | None) -> str:
        restored = self._restored_text()
        if self.should_stop:
            return f"Stopped: {self._stop_message}.{restored}"
        if left_early:
            return f"The loop ended early at epoch {open_epoch}.{restored}"
        best = self.best_epoch
        hint = ""
        if self._model is not None and best is not None and best != self.history.last_epoch:
            hint = f" The best epoch was {best}: monitor.restore_best() loads its weights."
        return f"Finished {self._epochs_done_in_loop} epochs.{hint}"

    def _after_cell(self, key: str, callback: Callable[[Any], None]) -> None:
        """Run ``callback(result)`` once, on the kernel's main thread, when the running cell ends."""
        if key in self._after_cell_pending:
            return

        def once(result: Any) -> None:
            self._after_cell_pending.discard(key)
            callback(result)

        if after_cell(once):
            self._after_cell_pending.add(key)

    def _explain_after_cell(self, epoch: int | None) -> None:
        """Say whether an early end was an interrupt or an error, once the cell has finished."""

        def explain(result: Any) -> None:
            error = getattr(result, "error_in_exec", None)
            if isinstance(error, KeyboardInterrupt):
                self._outcome = f"Interrupted at epoch {epoch}.{self._restored_text()}"
            elif error is not None:
                self._outcome = f"Stopped by an error at epoch {epoch}: {type(error).__name__}: {error}."
                self._outcome += self._restored_text()
            else:
                return
            self._request_redraw(final=True)

        self._after_cell("explain", explain)

    def _draw_after_cell(self) -> None:
        """Epochs logged outside epochs() are drawn at the frame rate; the cell's end draws the last
        state (with its static image), since no loop end will."""
        if self._view is not None:
            self._after_cell("draw", lambda result: None if self._loop_active else self._draw(final=True))

    # -- internals: values and stopping ------------------------------------------------

    def _check_values(self, epoch: int, values: dict[str, float], relogged_val: bool) -> None:
        if "val" in values:
            if relogged_val and self._stopper_before_epoch is not None:
                self._stopper.load_state_dict(self._stopper_before_epoch)
            else:
                self._stopper_before_epoch = self._stopper.state_dict()
            improved_before = self._stopper.best_epoch
            self._stopper.update(values["val"])
            if self._stopper.best_epoch is not None and self._stopper.best_epoch != improved_before:
                self._keep_best_weights(epoch)
            if self._stopper.should_stop:
                self._stop_from_stopper(epoch, values["val"])
        train = values.get("train")
        if train is not None and self._stopper.check_finite and not math.isfinite(train):
            self._request_stop(
                StopReason.NON_FINITE,
                f"the training loss is {train} at epoch {epoch}, not a finite number (training diverged: "
                "lower the learning rate)",
                epoch,
            )

    def _stop_from_stopper(self, epoch: int, val: float) -> None:
        best = self.best_epoch
        best_text = "" if best is None else f"; best {self._stopper.best:.4g} at epoch {best}"
        if self._stopper.reason_code is StopReason.NON_FINITE:
            message = f"the validation loss is {val} at epoch {epoch}, not a finite number{best_text}"
        else:
            message = (
                f"early stopping at epoch {epoch}: no improvement for {self._stopper.wait} epochs "
                f"(patience {self._stopper.patience}){best_text}"
            )
        self._request_stop(self._stopper.reason_code, message, epoch)

    def _keep_best_weights(self, epoch: int) -> None:
        if self._model is not None:
            self._best_state = snapshot(self._model)
            self._best_state_epoch = epoch
            if self._best_weights_file is not None:
                save_state(self._best_weights_file, self._best_state)

    def _request_stop(self, code: StopReason | None, message: str, epoch: int | None) -> None:
        if self._ranks is not None and code in (StopReason.USER, StopReason.INTERRUPTED):
            # One rank may not leave alone: all ranks agree at the next epoch boundary.
            if self._local_stop is None:
                self._local_stop = (code, message, epoch)
            return
        self._set_stop(code, message, epoch)

    def _set_stop(self, code: StopReason | None, message: str, epoch: int | None) -> None:
        if self._stop_event.is_set():
            return
        self._stop_code, self._stop_message, self._stop_epoch = code, message, epoch
        self._stop_event.set()
        self._stop_requested = True

    def _agree_on_stop(self) -> None:
        local, self._local_stop = self._local_stop, None
        if self._ranks.any(local is not None):
            code, message, epoch = local or (StopReason.USER, "another rank asked to stop", self._current_epoch)
            self._set_stop(code, message, epoch)

    def _clear_stop(self) -> None:
        self._stop_event.clear()
        self._stop_requested = False
        self._stop_code = self._stop_message = self._stop_epoch = None
        self._stopper.resume()

    def _on_interrupt(self) -> None:
        self._request_stop(StopReason.INTERRUPTED, "the kernel was interrupted (■)", self._current_epoch)
        self._dirty = True

    def _attach_model(self, model: Any) -> None:
        model = check_model(model)
        if self._mode_hook is not None:
            self._mode_hook.remove()
            self._mode_hook = None
        self._model = model
        self._mode_layers = None
        if model is not None and callable(getattr(model, "register_forward_pre_hook", None)):
            from losswidget.weights import watch_train_mode_without_grad

            self._mode_hook = watch_train_mode_without_grad(model, self)

    def _check_mode(self, key: str) -> None:
        """Teaching guard: dropout and batch norm behave differently in train() and eval() mode."""
        if self._mode_layers is None:
            from losswidget.weights import has_mode_dependent_layers

            self._mode_layers = has_mode_dependent_layers(self._model)
        if not self._mode_layers:
            return
        if key == "eval-steps":
            message = (
                "losswidget: training steps are logged while the model is in eval() mode: call model.train() "
                "before training, or dropout and batch norm stay switched off"
            )
        else:
            message = (
                "losswidget: the validation loss was logged while the model is in train() mode: call model.eval() "
                "before validating (lw.evaluate does), or dropout and batch norm make it noisy and too high"
            )
        self._warn_once(key, message)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(message, stacklevel=3)

    def _flush_steps(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        if self._pending_tensors:
            self._pending_tensors = False
            values = np.empty(len(pending))
            tensor_rows = [i for i, v in enumerate(pending) if not isinstance(v, float)]
            floats = [i for i, v in enumerate(pending) if isinstance(v, float)]
            values[floats] = [pending[i] for i in floats]
            values[tensor_rows] = tensors_to_floats([pending[i] for i in tensor_rows])
        else:
            values = np.fromiter(pending, dtype=np.float64, count=len(pending))
        epoch = self._current_epoch if self._epoch_open else self._next_epoch
        self.history.log_steps(values, epoch)
        if self._writer is not None:
            self._writer.write_steps(values, epoch)

    # -- internals: drawing ----------------------------------------------------------

    def _maybe_frame(self, force: bool = False, now: float | None = None) -> None:
        now = time.perf_counter() if now is None else now
        if now >= self._next_pump_at:
            self._next_pump_at = now + PUMP_INTERVAL
            if self._channel is not None and self._regime == "pump":
                self._channel.pump()
        if force or self._dirty or now >= self._next_frame_at:
            self._draw()
        self._next_check_at = min(self._next_frame_at, self._next_pump_at)

    def _request_redraw(self, final: bool = False) -> None:
        """From a control (any thread): redraw now if no loop runs, else at the loop's next frame."""
        self._dirty = True
        if not self._loop_active:
            self._draw(final=final)

    def _draw(self, final: bool = False) -> None:
        if self._loop_active and threading.current_thread() is not self._loop_thread:
            self._dirty = True  # not ours to draw: the loop will, at its next frame
            return
        started = time.perf_counter()
        with self._draw_lock, SignalsDeferred():
            self._dirty = False
            self._flush_steps()
            if self._view is not None:
                if self._loop_active and self._channel is not None:
                    self._regime = self._channel.regime()
                frame = self._build_frame()
                self._view.render(frame)
                if final:
                    self._view.finish(frame)
        now = time.perf_counter()
        self.frame_seconds = now - started
        # Adaptive: drawing never takes more than DRAW_BUDGET of the time.
        self._next_frame_at = now + max(self._frame_interval, self.frame_seconds / DRAW_BUDGET)
        self._next_check_at = min(self._next_frame_at, self._next_pump_at)

    def _build_frame(self) -> frames.Frame:
        runs = [
            frames.PastRun(h.name or "", h.epochs.astype(np.float64), h.train.copy(), h.val.copy()) for h in self._past
        ]
        stop = None
        if self._stop_event.is_set() and self._stop_epoch is not None:
            stop = (self._stop_epoch, _short_reason(self._stop_code))
        return frames.build_frame(
            self.history,
            self._chart,
            smoothing=self._smoothing,
            patience=self._what_if_patience,
            min_delta=self._stopper.min_delta,
            log_y=self._log_y,
            planned_last=self._planned_last if self._loop_active else None,
            open_epoch=self._current_epoch if self._epoch_open else None,
            stop=stop,
            runs=runs,
            status=self._status_lines(),
            title=self.history.name or "",
        )

    def _status_lines(self) -> list[str]:
        lines = [self._progress_text()]
        best = frames.best_point(self.history)
        if best is not None:
            lines.append(f"Best validation loss {best[1]:.4g} at epoch {best[0]}.")
        lines.append(self._stopping_text())
        lines.append(self._diagnosis())
        non_finite = self._chart.step_non_finite + _count_non_finite(self.history)
        if non_finite:
            lines.append(f"{non_finite} NaN/inf value{'s' if non_finite != 1 else ''} shown as gaps.")
        if self._outcome:
            lines.append(self._outcome)
        elif self.should_stop and self._loop_active:
            lines.append(f"Stopping at the end of this epoch: {self._stop_message}.")
        if self._loop_active or self.running:
            lines.append(self._channel.describe(self._regime) if self._channel else REGIME_TEXT[self._regime])
        return [line for line in lines if line]

    def _progress_text(self) -> str:
        if not self._loop_active:
            return f"{len(self.history)} epochs recorded." if len(self.history) else "Waiting for the first epoch."
        current = self._current_epoch if self._current_epoch is not None else self._next_epoch
        text = f"Epoch {current}"
        if self._planned_last is not None:
            text += f" of {self._loop_first_epoch}–{self._planned_last}"
        elapsed = time.monotonic() - self._loop_started
        text += f" · elapsed {frames.format_duration(elapsed)}"
        if self._epochs_done_in_loop and self._planned_last is not None:
            remaining = self._planned_last - current + 1
            eta = elapsed / self._epochs_done_in_loop * remaining
            text += f" · ETA {frames.format_duration(eta)}"
        return text + "."

    def _stopping_text(self) -> str:
        if self._early_stopping:
            stopper = self._stopper
            return f"Early stopping: patience {stopper.patience}, {stopper.wait} epochs without improvement."
        what_if = self._chart.what_if(self.history, self._what_if_patience, self._stopper.min_delta)
        prefix = f"Early stopping is off; with patience {self._what_if_patience} it would"
        if what_if is None:
            return f"{prefix} not have stopped yet."
        return f"{prefix} have stopped at epoch {what_if[0]}."

    def _diagnosis(self) -> str:
        key = (len(self.history), self.history.val[-1] if len(self.history) else None)
        if key != self._diagnosis_key:
            self._diagnosis_key = key
            self._diagnosis_text = "Diagnosis: " + diagnose(self.history).message
        return self._diagnosis_text


def _on_main() -> bool:
    return threading.current_thread() is threading.main_thread()


def _short_reason(code: StopReason | None) -> str:
    return {
        StopReason.PATIENCE: "early stop",
        StopReason.NON_FINITE: "NaN/inf",
        StopReason.USER: "stopped",
        StopReason.INTERRUPTED: "interrupted",
        StopReason.ERROR: "error",
    }.get(code, "stopped")


def _count_non_finite(history: History) -> int:
    total = 0
    for name in ("train", "val"):
        values = history[name]
        total += int(np.isinf(values).sum())
    return total
