"""Watch a run from another process: follow its JSONL log, send stop requests back.

>>> watcher = lw.watch("runs/job.jsonl")     # doctest: +SKIP
>>> watcher                                    # the live chart; Stop asks the job to stop

The training process (``torchrun train.py``, a job on a cluster with shared storage)
uses ``LiveLossMonitor(log_file=...)`` without a display. The watcher reads what the
file gained (complete lines only: a half-written line waits for the next poll), and
its Stop, Pause and learning-rate buttons and its patience slider write a request next to the log
(:mod:`losswidget.files.control`) that the job applies at its next check.
"""

from __future__ import annotations

import os
import reprlib
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from losswidget.chart.frame import Frame, PastRun, StepCache, build_frame
from losswidget.chart.settings import ChartSettings
from losswidget.core.diagnosis import diagnose
from losswidget.core.history import History
from losswidget.core.reasons import sentence
from losswidget.core.replay import best_of, recorded_ses
from losswidget.core.stopping import EarlyStopping
from losswidget.core.validate import check_float
from losswidget.files.control import RATE_FACTORS, control_path, write_request
from losswidget.files.follower import FileFollower
from losswidget.run.display import Display
from losswidget.run.status import StatusSnapshot, detail_lines, status_lines
from losswidget.views.base import Controls
from losswidget.watch_steering import WatcherSteering

__all__ = ["RunWatcher", "watch"]

MAX_INTERVAL = 3600.0  # seconds between reads; poll() reads at any time (a thread cannot wait 1e10 s)


class WatchFeed:
    """The watcher's frames and status, from its followers and settings: the display draws from it."""

    def __init__(self, followers: list[FileFollower], settings: ChartSettings, requests: list[str]) -> None:
        self.followers, self.settings, self.requests = followers, settings, requests
        self.cache = StepCache()

    @property
    def history(self) -> History:
        return self.followers[0].history

    def flush(self) -> None:
        pass  # a followed log has no pending steps

    def best(self) -> tuple[int, float] | None:
        """What early stopping would call the best epoch of the followed validation values."""
        history, rule = self.history, self.followers[0].rule
        ses = recorded_ses(history, rule["min_delta_se"])
        return best_of(history.val, history.epochs, rule["min_delta"], "min", rule["min_delta_se"], ses)

    def what_if(self) -> EarlyStopping:
        return EarlyStopping(patience=self.settings.patience, **self.followers[0].rule)

    def frame(self, regime: str = "") -> Frame:
        status = self.status()  # once per frame: the best epoch and the diagnosis are replays
        return build_frame(
            self.history,
            self.cache,
            smoothing=self.settings.smoothing,
            what_if=self.what_if(),
            log_y=self.settings.log_y,
            band=self.settings.band,
            best=status.best,
            runs=[PastRun.of(follower.history) for follower in self.followers[1:]],
            status=status_lines(status),
            details=detail_lines(status),
            title=self.history.name or "",
            stop_control="Finished" if all(follower.ended is not None for follower in self.followers) else None,
        )

    def status(self) -> StatusSnapshot:
        history = self.history
        return StatusSnapshot(
            epochs_recorded=len(history),
            progress=self.progress_text(),
            best=self.best(),
            early_stopping=False,
            what_if_patience=self.settings.patience,
            what_if=self.cache.what_if(history, self.what_if()),
            diagnosis=diagnose(history),
            last_epoch=history.last_epoch,
            non_finite=self.cache.non_finite(history),
            extra=self.open_requests(),
        )

    def open_requests(self) -> tuple[str, ...]:
        """What was asked, less what was asked of runs that have ended since: how each ended says it."""
        ended = tuple(f"Asked {f.path.name} to " for f in self.followers if f.ended is not None)
        return tuple(line for line in self.requests if not (ended and line.startswith(ended)))

    def progress_text(self) -> str:
        texts = []
        for follower in self.followers:
            name = follower.path.name
            if follower.problem == "waiting":
                texts.append(f"Waiting for {follower.path} to appear.")
                continue
            text = f"Watching {name}: {len(follower.history)} epochs"
            if follower.updated is not None:
                text += f", updated {time.time() - follower.updated:.0f} s ago"
            if follower.ended is not None:
                text += f"; the run ended ({follower.ended.get('outcome', '')})"
            if follower.problem:
                text += f"; {follower.problem}"
            texts.append(text + ".")
        return " ".join(texts)


class RunWatcher:
    """Runs written by other processes, in the same chart a monitor draws, with Stop forwarded to them.

    Composed, not derived: file followers are the history source, :class:`~losswidget.run.display.Display`
    and the views draw, and the controls write requests next to the logs
    (:mod:`losswidget.files.control`). The best epoch is what early stopping would name on the
    followed validation values, by the rule the job's log header gives (``min_delta``, ``min_delta_se``; 0 if none).
    """

    def __init__(self, paths: list[Path], interval: float = 0.5, display: str = "auto") -> None:
        interval = check_interval(interval)
        self.followers = [FileFollower(path) for path in paths]
        self.settings = ChartSettings()
        self.settings.on_change = self._setting_changed
        self._requests: list[str] = []
        self._feed = WatchFeed(self.followers, self.settings, self._requests)
        self._display = Display(display, 5.0)
        self._display.source = self._feed
        self._controls = Controls(self.settings, self.stop, self.__repr__)
        redraw = lambda: self._display.request_redraw(loop_active=False)  # noqa: E731
        self._controls.steering = self._steering = WatcherSteering(self.followers, self._requests, redraw)
        self._interval = interval
        self._closed = threading.Event()
        self._shown_history = self.history
        self._poll_all()
        self._thread = threading.Thread(target=self._follow, name="losswidget-watch", daemon=True)
        self._thread.start()

    @property
    def history(self) -> History:
        """The main (first) run's history as followed so far."""
        return self.followers[0].history

    @property
    def best_epoch(self) -> int | None:
        best = self._feed.best()
        return None if best is None else best[0]

    @property
    def status_lines(self) -> list[str]:
        return status_lines(self._feed.status())

    # -- following ---------------------------------------------------------------------

    def _follow(self) -> None:
        while not self._closed.wait(self._interval):
            try:
                self._poll_all()
            except Exception as error:  # the thread must outlive any file: say it and go on
                for follower in self.followers:
                    follower.problem = f"could not read the log ({type(error).__name__}: {error}); still following"

    def _poll_all(self) -> None:
        changed = False
        for follower in self.followers:
            changed = follower.poll() or changed
        if changed:
            if self.history is not self._shown_history:
                self._feed.cache.reset()
                self._shown_history = self.history
            # Once every run has ended, leave a static image too (for saved notebooks).
            ended = all(follower.ended is not None for follower in self.followers)
            self._display.request_redraw(loop_active=False, final=ended)

    def poll(self) -> None:
        """Read the files now (the watcher also does it every ``interval`` seconds)."""
        self._poll_all()

    def close(self) -> None:
        """Stop following the files; the output keeps a static image of the chart."""
        self._closed.set()
        self._thread.join(timeout=5)
        self._poll_all()
        self._display.request_redraw(loop_active=False, final=True)

    # -- requests to the training processes ----------------------------------------------

    def stop(self, reason: str | None = None) -> None:
        """Ask every watched run that is still going to stop at its next epoch."""
        if reason is not None and not isinstance(reason, str):
            raise TypeError(f"'reason' must be a string or None: {reason!r}")
        reason = reason or sentence("watcher button")
        self._requests.clear()
        for follower in self.followers:
            if follower.ended is not None:
                self._requests.append(f"{follower.path.name} had already ended: nothing to stop.")
                continue
            write_request(control_path(follower.path), stop={"reason": reason, "requested_at": time.time()})
            self._requests.append(f"Asked {follower.path.name} to stop at its next epoch.")
        self._display.request_redraw(loop_active=False)

    def pause(self) -> None:
        """Ask every watched run still going to hold at its next step (its monitor's Pause)."""
        self._steering.request_pause()

    def resume(self) -> None:
        self._steering.request_resume()

    def change_lr(self, factor: float) -> None:
        """Ask every watched run still going to multiply its learning rate by ``factor`` at its next
        step (where its monitor knows the optimizer; the change is an event in its log)."""
        low, high = RATE_FACTORS  # what the job accepts from a control file
        factor = check_float("factor", factor, minimum=low)
        if factor > high:
            raise ValueError(f"'factor' must be <= {high:g} (the learning rate times it): {factor:g}")
        self._steering.request_rate(None, factor)

    def _setting_changed(self, name: str) -> None:
        if name == "patience":
            for follower in self.followers:
                if follower.ended is None and follower.problem != "waiting":
                    write_request(control_path(follower.path), patience=self.settings.patience)
        self._display.request_redraw(loop_active=False)

    # -- display -------------------------------------------------------------------------

    def _ipython_display_(self) -> None:
        self._display.ensure_view(self._controls)
        if self._display.view is not None:
            self._display.view.show()
            self._display.draw()

    def __repr__(self) -> str:
        names = ", ".join(follower.path.name for follower in self.followers)
        return f"<RunWatcher {names}: {len(self.history)} epochs, best epoch {self.best_epoch}>"


def watch(paths: Any, *, interval: float = 0.5, display: str = "auto") -> RunWatcher:
    """Follow one or several ``.jsonl`` logs as they grow, in a live chart.

    The first path is the main run; the others are drawn beside it, faded, with their
    names. Stop and the patience slider send requests to the runs still going. Files
    that do not exist yet are waited for.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if not isinstance(paths, Iterable):
        raise TypeError(f"'paths' must be a path or a list of paths: got {type(paths).__name__}")
    paths = list(paths)
    for index, path in enumerate(paths):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(
                f"'paths' must be a path or a list of paths: item {index} is {reprlib.repr(path)} "
                f"({type(path).__name__})"
            )
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("'paths' is empty: give at least one .jsonl log to watch")
    for path in paths:
        if path.is_dir():
            raise IsADirectoryError(f"watch() follows .jsonl log files: {str(path)!r} is a directory")
        if path.suffix.lower() != ".jsonl":
            raise ValueError(f"watch() follows .jsonl logs written with log_file=...: {str(path)!r}")
    interval = check_interval(interval)
    return RunWatcher(paths, interval=interval, display=display)


def check_interval(interval: Any) -> float:
    """Seconds between reads: at least 0.05, at most an hour."""
    interval = check_float("interval", interval, minimum=0.05)
    if interval > MAX_INTERVAL:
        raise ValueError(
            f"'interval' must be <= {MAX_INTERVAL:g} seconds (an hour): {interval:g}; "
            "watcher.poll() reads the files at any time"
        )
    return interval
