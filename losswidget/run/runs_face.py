"""Runs of one monitor and loops it does not run itself: a fresh run beside the earlier ones (faded),
a finished history added for comparison, training in a background thread, and the driver API of the
framework callbacks (``begin_loop``/``end_loop``), whose framework owns the loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from losswidget.core.history import History
from losswidget.core.validate import check_bool, check_int
from losswidget.model.rates import LearningRates, RatesOfAnotherModel, steps_another_model


class RunsFace:
    """``new_run``, ``add_run``, ``runs``, ``start``, ``wait``, ``running``, ``begin_loop`` and
    ``end_loop`` of :class:`~losswidget.run.monitor.LiveLossMonitor`."""

    _past: list[History]
    _recorder: Any
    _stopper: Any
    _feed: Any
    _best: Any
    _samples: Any
    _stop: Any
    _loop: Any
    _background: Any
    _request_redraw: Any
    model: Any
    show: Any
    _on_interrupt: Any

    @property
    def runs(self) -> list[History]:
        """Earlier runs shown faded for comparison (see :meth:`new_run`, :meth:`add_run`)."""
        return list(self._past)

    @property
    def running(self) -> bool:
        """A loop runs here, or a background run is going (the feed owns the answer)."""
        return self._feed.running

    def new_run(self, name: str | None = None, model: Any = None, optimizer: Any = None) -> Any:
        """Start a fresh run; the current one stays on the chart, faded, for comparison. ``model``,
        ``optimizer``: the new run's, when they are new (its weights kept, its learning rate read)."""
        if self._loop.active:
            raise RuntimeError("cannot start a new run while epochs() is running")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"'name' must be a string or None: {name!r}")
        rates = None if optimizer is None else LearningRates(optimizer)  # checked before anything changes
        if model is not None:
            self.model = model
            old = self._recorder.rates
            if rates is None and old is not None and steps_another_model(old.optimizer, model):
                rates = RatesOfAnotherModel(old.optimizer)  # the old optimizer's rate would be a wrong fact
        if rates is not None:
            self._recorder.rates = rates
        finished = self._recorder.new_history(name)
        if len(finished):
            finished.name = finished.name or f"run {len(self._past) + 1}"
            self._past.append(finished)
        self._stopper.reset()
        self._feed.steps.reset()
        self._best.reset()
        self._samples.reset()
        self._stop.clear()
        self._loop.outcome = None
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

    def start(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``function(*args, **kwargs)`` in a background thread; the cell returns at once.

        The function trains with this monitor as usual; :meth:`wait` joins it, returning its
        result or raising its exception.
        """
        if not callable(function):  # before anything is shown: a rejected call changes nothing
            raise TypeError(f"'function' must be callable: got {type(function).__name__}")
        self.show()
        self._background.start(function, args, kwargs, on_error=self._background_failed)
        return self

    def wait(self, timeout: float | None = None) -> Any:
        """Wait for the background run; return its result or raise its exception. Ctrl-C (■) while
        waiting stops the run gracefully, as in a loop on the main thread, and waits for it to end."""
        return self._background.wait(timeout, self._on_interrupt)

    def _background_failed(self, error: BaseException) -> None:
        self._loop.outcome = f"The background run failed: {type(error).__name__}: {error}"
        self._request_redraw()

    # -- for framework callbacks that own the loop (Lightning, Keras, Trainer, fastai) ---

    def begin_loop(self, epochs: int = 0) -> None:
        """A framework's training starts: each ``log()`` until :meth:`end_loop` is one epoch.

        ``epochs`` is the planned number (0: unknown). The chart, Stop, the sliders and the log
        file behave as in ``epochs()``; the framework reads ``should_stop`` to stop.
        """
        epochs = check_int("epochs", epochs, minimum=0)
        if self._loop.active:
            raise RuntimeError("this monitor is already running a loop; end it before starting another")
        self._loop.begin(epochs, framework=True)

    def begin_epoch(self) -> None:
        """A framework's epoch starts: the learning rates it trains with are read now (a framework
        that steps its scheduler before its epoch-end hook would otherwise show the next epoch's), and
        the best epoch's optimizer state kept if the best just moved."""
        self._best.settle()
        self._recorder.note_rates()

    def end_loop(self, finished: bool) -> None:
        """The framework's training ended (``finished``: it ran every planned epoch). As at the end of
        ``epochs()``: the best weights come back when it ended early, the status says how it ended."""
        if self._loop.active:
            self._loop.end(check_bool("finished", finished), second_interrupt=False)
