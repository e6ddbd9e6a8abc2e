"""Watch a run from another process: follow its JSONL log, send stop requests back.

>>> watcher = lw.watch("runs/job.jsonl")     # doctest: +SKIP
>>> watcher                                    # the live chart; Stop asks the job to stop

The training process (``torchrun train.py``, a job on a cluster with shared storage)
uses ``LiveLossMonitor(log_file=...)`` without a display. The watcher reads what the
file gained (complete lines only: a half-written line waits for the next poll), and
its Stop button and patience slider write a request next to the log
(:mod:`losswidget.control`) that the job applies at its next check.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from losswidget._validate import check_float
from losswidget.control import control_path, write_request
from losswidget.history import History
from losswidget.history_files import HistoryFileError, _apply_record, _check_header
from losswidget.monitor import LiveLossMonitor

__all__ = ["RunWatcher", "watch"]


class FileFollower:
    """Incrementally parses one growing JSONL history file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.history = History(path.stem)
        self.ended: dict | None = None
        self.problem: str | None = None
        self.updated: float | None = None
        self._offset = 0
        self._tail = b""
        self._identity: tuple | None = None
        self._header_seen = False

    def _restart(self, why: str) -> None:
        self.history = History(self.path.stem)
        self.ended = None
        self._offset, self._tail, self._header_seen = 0, b"", False
        self.problem = why

    def poll(self) -> bool:
        """Read what was appended; True if anything changed."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            changed = self.problem != "waiting"
            self.problem = "waiting"
            return changed
        changed = self.problem == "waiting"
        if self.problem == "waiting":
            self.problem = None
        identity = (stat.st_dev, stat.st_ino)
        if self._identity is not None and (identity != self._identity or stat.st_size < self._offset):
            self._restart("the log was truncated or replaced: reading it again from the start")
            changed = True
        self._identity = identity
        if stat.st_size == self._offset:
            return changed
        with open(self.path, "rb") as stream:
            stream.seek(self._offset)
            data = stream.read()
        self._offset += len(data)
        lines = (self._tail + data).split(b"\n")
        self._tail = lines.pop()  # an incomplete last line waits for the rest
        for line in lines:
            if line.strip():
                self._apply(line)
        self.updated = time.time()
        return True

    def _apply(self, line: bytes) -> None:
        try:
            record = json.loads(line)
            if not self._header_seen:
                name = _check_header(record, str(self.path))
                self.history.name = name or self.path.stem
                self._header_seen = True
            elif isinstance(record, dict) and record.get("kind") == "end":
                self.ended = record
            else:
                if self.ended is not None:  # the loop was continued after an end record
                    self.ended = None
                _apply_record(self.history, record)
        except (ValueError, TypeError, HistoryFileError) as error:
            self.problem = f"a record could not be read ({error}); later records are still followed"


class RunWatcher(LiveLossMonitor):
    """A LiveLossMonitor that shows runs written by other processes and forwards Stop to them."""

    def __init__(self, paths: list[Path], interval: float = 0.5, display: str = "auto") -> None:
        super().__init__(patience=None, display=display, name=paths[0].stem)
        self._followers = [FileFollower(path) for path in paths]
        self._interval = interval
        self._closed = threading.Event()
        self._requests: list[str] = []
        self.history = self._followers[0].history
        self._poll_all()
        self._thread = threading.Thread(target=self._follow, name="losswidget-watch", daemon=True)
        self._thread.start()

    # -- following ---------------------------------------------------------------------

    def _follow(self) -> None:
        while not self._closed.wait(self._interval):
            self._poll_all()

    def _poll_all(self) -> None:
        changed = False
        for follower in self._followers:
            changed = follower.poll() or changed
        if changed:
            main = self._followers[0]
            if main.history is not self.history:
                self._chart.reset()
                self.history = main.history
            self._past = [follower.history for follower in self._followers[1:]]
            # Once every run has ended, leave a static image too (for saved notebooks).
            ended = all(follower.ended is not None for follower in self._followers)
            self._request_redraw(final=ended)

    def poll(self) -> None:
        """Read the files now (the watcher also does it every ``interval`` seconds)."""
        self._poll_all()

    def close(self) -> None:
        """Stop following the files; the output keeps a static image of the chart."""
        self._closed.set()
        self._thread.join(timeout=5)
        self._poll_all()
        self._request_redraw(final=True)

    # -- requests to the training processes ----------------------------------------------

    def stop(self, reason: str | None = None) -> None:
        """Ask every watched run that is still going to stop at its next epoch."""
        if reason is not None and not isinstance(reason, str):
            raise TypeError(f"'reason' must be a string or None: {reason!r}")
        reason = reason or "a watcher's Stop button was pressed"
        self._requests = []
        for follower in self._followers:
            if follower.ended is not None:
                self._requests.append(f"{follower.path.name} had already ended: nothing to stop.")
                continue
            write_request(control_path(follower.path), stop={"reason": reason, "requested_at": time.time()})
            self._requests.append(f"Asked {follower.path.name} to stop at its next epoch.")
        self._request_redraw()

    def _ui_stop(self) -> None:
        self.stop()

    def _ui_patience(self, value: int) -> None:
        super()._ui_patience(value)
        for follower in self._followers:
            if follower.ended is None and follower.problem != "waiting":
                write_request(control_path(follower.path), patience=int(value))

    # -- status ------------------------------------------------------------------------

    def _status_lines(self) -> list[str]:
        return super()._status_lines() + self._requests

    def _progress_text(self) -> str:
        texts = []
        for follower in self._followers:
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


def watch(paths: Any, *, interval: float = 0.5, display: str = "auto") -> RunWatcher:
    """Follow one or several ``.jsonl`` logs as they grow, in a live chart.

    The first path is the main run; the others are drawn beside it, faded, with their
    names. Stop and the patience slider send requests to the runs still going. Files
    that do not exist yet are waited for.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    try:
        paths = [Path(p) for p in paths]
    except TypeError:
        raise TypeError(f"'paths' must be a path or a list of paths: got {type(paths).__name__}") from None
    if not paths:
        raise ValueError("'paths' is empty: give at least one .jsonl log to watch")
    for path in paths:
        if path.suffix.lower() != ".jsonl":
            raise ValueError(f"watch() follows .jsonl logs written with log_file=...: {str(path)!r}")
    interval = check_float("interval", interval, minimum=0.05)
    return RunWatcher(paths, interval=interval, display=display)
