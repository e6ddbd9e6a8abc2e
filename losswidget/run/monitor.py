"""LiveLossMonitor: the public loop API, a facade over parts that each own one job.

- :class:`~losswidget.run.recorder.Recorder`: values into the history and the outputs (the log file,
  TensorBoard, trackers, the user's own: :mod:`losswidget.outputs`);
- :class:`~losswidget.run.early_stop.SettingsStopping`: the early-stopping decision, the one owner
  of the best epoch (the ◆, the status line, ``best_epoch``, the stop reason and the weights);
- :class:`~losswidget.chart.settings.ChartSettings`: the one owner of every setting (patience, early
  stopping on/off, smoothing, log scale, size), read and written by ``settings_face``;
- :class:`~losswidget.run.stop_control.StopControl`: the one stop decision (its words:
  :mod:`losswidget.core.reasons`); :class:`~losswidget.run.best_weights.BestWeights`: the best
  weights; :class:`~losswidget.run.guards.TeachingGuards`: train()/eval() warnings;
- :class:`~losswidget.run.display.Display`: the view, the control channel and the frame clock;
- the faces: ``step_path`` (``log_step``), ``facts_face`` (what a user reads), ``runs_face``
  (earlier runs, background training), ``settings_face`` (the settings as properties), ``steer_face``
  (stop, pause, resume, the learning rate: :class:`~losswidget.run.steering.Steering` applies them).

Threads: the loop's thread (main, or a background one with :meth:`start`) draws; ``log`` and
``log_step`` may come from any thread (README, "Guarantees"). Widget handlers (kernel subshells)
only set an Event or a value and ask for a redraw. ``docs/architecture.md`` follows one value.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from losswidget.chart import frame as frames
from losswidget.chart.settings import ChartSettings
from losswidget.core.history import History, check_metric_name
from losswidget.core.reasons import StopReason, sentence
from losswidget.core.stopping import MAX_PATIENCE
from losswidget.core.validate import check_bool, check_choice, check_float, check_int, check_path
from losswidget.core.values import to_float
from losswidget.model.ranks import Ranks
from losswidget.model.rates import LearningRates
from losswidget.model.weights import check_model
from losswidget.outputs.base import RunInfo
from losswidget.outputs.fanout import open_outputs
from losswidget.run.background import Background
from losswidget.run.best_weights import BestWeights, check_weights_file
from losswidget.run.branch_face import BranchFace
from losswidget.run.decision import Decision
from losswidget.run.display import Display
from losswidget.run.early_stop import SettingsStopping
from losswidget.run.facts_face import FactsFace
from losswidget.run.feed import ChartFeed
from losswidget.run.guards import TeachingGuards
from losswidget.run.interrupts import InterruptAsStop
from losswidget.run.loop import Loop
from losswidget.run.recorder import Recorder
from losswidget.run.replay_events import Replay, check_replay
from losswidget.run.requests import WatcherRequests
from losswidget.run.runs_face import RunsFace
from losswidget.run.settings_face import SettingsFace
from losswidget.run.status import StatusSnapshot
from losswidget.run.steer_face import SteerFace
from losswidget.run.steering import Steering
from losswidget.run.step_path import StepPath
from losswidget.run.stop_control import StopControl
from losswidget.run.validation import ValidationSamples
from losswidget.views.base import Controls

__all__ = ["LiveLossMonitor"]


class LiveLossMonitor(StepPath, SettingsFace, FactsFace, RunsFace, SteerFace, BranchFace):
    """A live chart of train/validation loss around a PyTorch loop, with early stopping.

    >>> monitor = LiveLossMonitor(patience=5, smoothing=3, model=model)   # doctest: +SKIP
    >>> monitor                                   # show it (last expression of a cell)
    >>> for epoch in monitor.epochs(100):
    ...     for xb, yb in train_loader:
    ...         ...
    ...         monitor.log_step(train=loss)      # optional, per step; returns should_stop
    ...     monitor.log(train=train_loss, val=val_loss, acc=acc)

    Semantics (README, "Semantics worth knowing"):

    - ``log()`` inside ``epochs()`` belongs to the current epoch; outside, each call is a new
      epoch. Logging a name twice in one epoch keeps the latest value, with a warning.
    - Early stopping is decided when an epoch's ``val`` is logged: ``should_stop`` is true right
      after that ``log()`` and ``epochs()`` ends before the next epoch. ``patience=None`` turns
      it off; a non-finite loss still stops unless ``check_finite=False``.
    - Stop button, ``stop()``, early stopping, the kernel interrupt (■, first press) all end the
      loop gracefully. When the loop ends before its last epoch for any reason and a ``model``
      was given, the best epoch's weights are loaded back. ``epochs()`` again continues.
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
        frame_rate: float = 2.0,
        max_points: int = 2000,
        presentation: bool = False,
        min_delta_se: float = 0.0,
        optimizer: Any = None,
        tensorboard: str | Path | None = None,
        outputs: Any = None,
        loss_name: str | None = None,
        snapshot_optimizer: bool = True,
        replay: Any = None,
    ) -> None:
        if patience is not None:
            patience = check_int("patience", patience, minimum=0, maximum=MAX_PATIENCE)
        check_choice("display", display, ("auto", "widget", "text", "none"))
        frame_rate = check_float("frame_rate", frame_rate, minimum=0.01)
        max_points = check_int("max_points", max_points, minimum=16, maximum=1_000_000)
        if log_file is not None:
            log_file = check_path("log_file", log_file)
        if name is not None and not isinstance(name, str):
            raise TypeError(f"'name' must be a string or None: {name!r}")
        # One owner for each setting: the sliders, the properties and early stopping read it here.
        self.settings = ChartSettings(
            smoothing, 5 if patience is None else patience, early_stopping=patience is not None
        )
        self.settings.presentation = presentation
        self._stopper = SettingsStopping(
            self.settings, min_delta, start_from_epoch, check_bool("check_finite", check_finite), min_delta_se
        )
        self._ranks = Ranks.detect()
        if self._ranks is not None and self._ranks.rank != 0:  # rank 0 draws and writes
            display, log_file, best_weights_file, tensorboard, outputs = "none", None, None, None, None
        self._guards, self._samples = TeachingGuards(), ValidationSamples(self._stopper, self._ranks)
        self._best = BestWeights(check_weights_file(best_weights_file))
        self._best.snapshot_optimizer = check_bool("snapshot_optimizer", snapshot_optimizer)  # its memory: there
        self._best.optimizer_of = lambda: self.optimizer
        self.model = model
        self._recorder = Recorder(name)
        self._steps = self._recorder.steps  # the per-step path's state
        self._stop = StopControl(self._ranks)
        self._requests = WatcherRequests(log_file, self.settings, self._stop)
        self._past: list[History] = []
        self._display = Display(display, frame_rate)
        self._controls = Controls(self.settings, self._press_stop, self.__repr__)
        self._decision = Decision(self._stopper, self._best, self._stop)
        self._loop = Loop(self._recorder, self._stopper, self._stop, self._best, self._display, self._controls)
        self._steering = Steering(self._recorder, self._stop, self._loop, self._request_redraw, self._ranks)
        self._controls.steering = self._steering  # under DDP: the learning rate (Pause and Back say why not)
        self._requests.steering = self._controls.steering  # a watcher's pause and learning rate
        self._steering.branch_problem = lambda: self.branch_unavailable  # what "Back to best" says
        self._replay = Replay(check_replay(replay), self._recorder, self._steering, self.settings, self._stopper)
        self._background = Background()
        parts = (self._loop, self._best, self._background, self._samples)
        self._feed = ChartFeed(self._recorder, self._stopper, self._stop, self.settings, self._past, max_points, *parts)
        self._display.source = self._feed
        self.loss_name = loss_name  # the loss axis names it ("cross-entropy loss"); checked here
        self.settings.on_change = lambda name: self._request_redraw()
        self.settings.on_moved = self._steering.setting_moved  # a patience moved is an event
        self.optimizer = optimizer
        # Last: a constructor that fails leaves no file to block the retry.
        self._recorder.outputs = open_outputs(RunInfo(name, 1, self._stopper.rule), log_file, tensorboard, outputs)

    # -- public state ----------------------------------------------------------------

    @property
    def history(self) -> History:
        return self._recorder.history

    @property
    def model(self) -> Any:
        """The model whose best weights are kept and restored (None: no weights tracking)."""
        return self._best.model

    @model.setter
    def model(self, value: Any) -> None:
        self._best.model = check_model(value)
        self._guards.attach(self._best.model)

    @property
    def optimizer(self) -> Any:
        """The optimizer whose learning rates are recorded once an epoch (``lr``, ``lr/1``...; None: none)."""
        rates = self._recorder.rates
        return None if rates is None else rates.optimizer

    @optimizer.setter
    def optimizer(self, value: Any) -> None:
        self._recorder.rates = None if value is None else LearningRates(value)

    # -- the loop --------------------------------------------------------------------

    def epochs(self, n: int) -> Iterator[int]:
        """Yield epoch numbers for ``n`` epochs, continuing the numbering of earlier loops.

        Ends early on Stop, :meth:`stop`, early stopping or the kernel interrupt.
        """
        n = check_int("n", n, minimum=0)
        self._loop.refuse_a_second()
        return self._epoch_loop(n)

    def _epoch_loop(self, n: int) -> Iterator[int]:
        self._loop.refuse_a_second()  # again: a second generator made before the first one started
        finished = False
        guard = InterruptAsStop(self._on_interrupt)
        try:
            with guard:
                self._loop.begin(n)
                epoch = self._recorder.next_epoch
                for left in range(n, 0, -1):
                    self._check_requests()
                    epoch = self._epoch_boundary(epoch, left)  # a branch goes on from its own epoch
                    self._stop.agree(self._recorder.current_epoch)
                    self._steering.agree_rates()  # under DDP: every rank's rate changes here
                    if self.should_stop:
                        break
                    self._recorder.open_epoch(epoch)
                    self._decision.new_epoch()
                    yield epoch
                    if self._loop.close_epoch():
                        self._maybe_frame()
                    epoch += 1
                else:
                    finished = True
        finally:
            self._loop.end(finished, second_interrupt=guard.interrupted and not finished and not self.should_stop)

    def log(self, train: Any = None, val: Any = None, **metrics: Any) -> bool:
        """Record one epoch's values (several calls in one epoch merge). Returns ``should_stop``."""
        values, losses = {}, None
        if train is not None:
            values["train"] = to_float(train, "train")
        if val is not None:  # a number, or one loss per validation example (its mean and standard error)
            losses = self._samples.values_of(val, values)
        for name, value in metrics.items():
            values[check_metric_name(name)] = to_float(value, name)
        if not values:
            raise TypeError("log() needs at least one value, e.g. monitor.log(train=0.52, val=0.61)")
        if self._ranks is not None:
            values = self._ranks.average(values)  # one collective per log() call
        with self._recorder.lock:  # another thread's log() waits: each epoch's values and decision together
            if val is not None:
                self._guards.validation_logged(val)
            self._guards.epoch_logged()
            if not self._recorder.epoch_open:
                self._loop.epoch_logged_outside()
            self._samples.against_best(self._recorder.epoch_now, losses, values)  # min_delta_se's noise
            epoch, replaced = self._recorder.log_epoch(values)
            self._guards.relogged(replaced, epoch)
            self._decision.epoch_logged(epoch, values, relogged_val="val" in replaced)
            self._samples.logged(epoch, self._stopper.best_epoch, losses)
        if not self._recorder.epoch_open and not self._loop.active:
            self._loop.draw_after_cell()
        self._maybe_frame()
        return self.should_stop

    # -- display ---------------------------------------------------------------------

    def show(self) -> None:
        """Show the monitor now (as ``display(monitor)`` does), if it is not shown yet."""
        self._display.show(self._controls)

    def _ipython_display_(self) -> None:
        self._display.ensure_view(self._controls)
        if self._display.view is not None:
            self._display.view.show()
            self._draw()

    def __repr__(self) -> str:
        state = "running" if self._loop.active else ("stopped" if self.should_stop else "idle")
        return (
            f"<LiveLossMonitor {state}: {len(self.history)} epochs, best epoch {self.best_epoch}, "
            f"patience {self.patience}>"
        )

    # -- internals ---------------------------------------------------------------------

    def _check_requests(self) -> None:
        """A watcher's requests from the control file (another process); then steering's (a pause holds here)."""
        self._requests.apply(self._recorder.current_epoch, self._display.sync_controls)
        self._steer()

    def _on_interrupt(self) -> None:
        self._stop.request(StopReason.INTERRUPTED, sentence("interrupt"), self._recorder.current_epoch)
        self._display.clock.mark_dirty()

    def _request_redraw(self, final: bool = False) -> None:
        self._display.request_redraw(self._loop.active, final)

    def _draw(self, final: bool = False, image_after_cell: bool = False) -> None:
        self._display.draw(final, image_after_cell)

    def _build_frame(self) -> frames.Frame:  # for tests and benchmarks: the display asks the feed
        return self._feed.frame(self._display.regime_text())

    def _status(self) -> StatusSnapshot:
        return self._feed.status(self._display.regime_text())
