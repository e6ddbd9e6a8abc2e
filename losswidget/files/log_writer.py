"""A monitor's live log: a run appended to a ``.jsonl`` file as it happens (the format:
:mod:`losswidget.core.history_jsonl`).

One writer per file: the file is locked (an OS advisory lock, ``flock``) while its monitor lives,
so a second process that starts a monitor on the same path is refused with the first owner's
process id and host (from the log's header). Each write first checks that the path still names
the file being written: a log deleted, replaced or turned into a directory mid-run is said
(:class:`LogFileLost`) instead of written into the void.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
import uuid
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from losswidget.core.history_jsonl import STEPS_PER_RECORD, end_line, epoch_line, event_line, header_line, steps_line
from losswidget.core.validate import check_path, check_regular_file

try:
    import fcntl
except ImportError:  # Windows: no advisory lock; the "already holds a history" check still stands
    fcntl = None  # type: ignore[assignment]


class LogFileLost(OSError):
    """The log file's path no longer names the file being written (deleted, replaced, a directory)."""


class HistoryWriter:
    """Append a run to a ``.jsonl`` file as it happens, flushing every record.

    A crash loses at most the steps not yet written (they go out in batches);
    :func:`load` reads the file back, skipping a torn last line.
    """

    def __init__(
        self,
        path: str | Path,
        name: str | None = None,
        rule: dict[str, float] | None = None,
        about: dict[str, Any] | None = None,
    ) -> None:
        """``about``: more header fields (JSON values), e.g. a class folder's student and settings."""
        path = check_path("log_file", path)
        exists = check_regular_file("log_file", path)  # first: a directory or a FIFO is named as such
        if path.suffix.lower() != ".jsonl":
            raise ValueError(f"'log_file' must end in .jsonl: {str(path)!r}")
        if exists and path.stat().st_size > 0:
            raise _taken(path)
        created = not exists
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._stream = open(path, "a", encoding="utf-8")
        try:
            _lock(self._stream, path)
            if os.fstat(self._stream.fileno()).st_size > 0:  # another process wrote it since the check
                self._stream.close()  # our lock goes first: the refusal asks whether another holds one
                raise _taken(path)
            self._identity = _identity(os.fstat(self._stream.fileno()))
            self._write(header_line(name, rule, **(about or {}), **_writer_fields()))
        except BaseException:
            self._stream.close()
            if created and path.exists() and path.stat().st_size == 0:
                path.unlink()  # a refused or failed start leaves nothing that would block the retry
            raise
        weakref.finalize(self, _close_quietly, self._stream)  # closed when the monitor that writes it is gone

    def _check_still_there(self) -> None:
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            raise LogFileLost(f"it was deleted (or its folder removed) mid-run: {str(self.path)!r}") from None
        if _identity(now) != self._identity:
            what = "a directory" if os.path.isdir(self.path) else "another file"
            raise LogFileLost(f"its path now names {what}: it was replaced mid-run")

    def _write(self, text: str) -> None:
        self._check_still_there()
        self._stream.write(text)
        self._stream.flush()

    def write_epoch(self, record: dict[str, float]) -> None:
        self._write(epoch_line(record))

    def write_steps(self, train: Any, epoch: Any) -> None:
        self._check_still_there()
        train = np.asarray(train)
        epoch = np.broadcast_to(np.asarray(epoch), train.shape)
        for start in range(0, train.size, STEPS_PER_RECORD):
            self._stream.write(
                steps_line(train[start : start + STEPS_PER_RECORD], epoch[start : start + STEPS_PER_RECORD])
            )
        self._stream.flush()

    @classmethod
    def beside(cls, path: Path, name: str | None, rule: dict[str, float] | None) -> HistoryWriter:
        """The writer of a monitor's next run (``new_run``): a new file beside ``path``,
        ``<stem>.run2.jsonl``, ``.run3``, ... (the first free number), so that every run is saved and
        each file loads alone."""
        stem = re.sub(r"\.run\d+$", "", path.stem)
        number = 2
        while (candidate := path.with_name(f"{stem}.run{number}.jsonl")).exists():
            number += 1
        return cls(candidate, name, rule)

    def write_event(self, event: Any) -> None:
        """A learning-rate change, a pause, a resume: its own record (``event_line``)."""
        self._write(event_line(event))

    def write_end(self, outcome: str, stop_code: str | None) -> None:
        """Mark the end of a training loop (a later loop may append more epochs)."""
        self._write(end_line(outcome, stop_code))

    def close(self) -> None:
        _close_quietly(self._stream)


def _writer_fields() -> dict[str, Any]:
    return {"run": uuid.uuid4().hex, "pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}


def _identity(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_dev, stat.st_ino


def _close_quietly(stream: Any) -> None:
    """Close, even when the last flush fails (a full disk): the failure was said when it happened."""
    try:
        stream.close()
    except OSError:
        pass


def _lock(stream: Any, path: Path) -> None:
    """Take the file's OS lock (released when the stream closes), or refuse: another process writes it."""
    if fcntl is None:
        return
    try:
        fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _taken(path) from None
    except OSError:
        pass  # a file system without locks (some network mounts): the size check is all there is


def _being_written(path: Path) -> bool:
    """True if a live monitor holds the file's lock (this process's included)."""
    if fcntl is None:
        return False
    try:
        with open(path, "rb") as stream:
            fcntl.flock(stream.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)  # released as the stream closes
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def _taken(path: Path) -> FileExistsError:
    """The refusal of a path that holds a history: one a live monitor writes, or one that was kept."""
    owner = _owner(path)
    if _being_written(path):
        return FileExistsError(
            f"'log_file' {str(path)!r} is being written by another monitor{f' ({owner})' if owner else ''}: "
            "each log has one writer; give this run another path"
        )
    return FileExistsError(
        f"'log_file' {str(path)!r} already holds a history{f' (written by {owner})' if owner else ''}: choose a "
        "new path or delete it (History.load reads the old one)"
    )


def _owner(path: Path) -> str:
    """ "process 4242 on host lab-3" from the log's header, or "" when it does not say."""
    try:
        with open(path, "rb") as stream:
            header = json.loads(stream.readline(4096))
        pid, host = header.get("pid"), header.get("host")
    except (OSError, ValueError, AttributeError):
        return ""
    if not isinstance(pid, int) or not isinstance(host, str):
        return ""
    return f"process {pid} on host {host}"
