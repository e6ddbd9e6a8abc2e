"""Requests from a watcher to a training process: a small JSON file next to the run's log.

``runs/x.jsonl`` has its control file at ``runs/x.control.json``. A watcher writes it
atomically (a temporary file, then a rename), so the trainer never reads half a request;
the trainer checks it at each epoch boundary and a few times a second between steps.
Contents::

    {"version": 1, "stop": {"reason": "...", "requested_at": 1764000000.0}, "patience": 7}

Only files and renames cross processes: the watcher and the job need only share a
filesystem. If the watcher dies, the run goes on; a restarted watcher reads the log
from the beginning and carries on.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from typing import Any, NamedTuple

from losswidget.core.reasons import sentence
from losswidget.core.stopping import MAX_PATIENCE

VERSION = 1
MAX_REQUEST_BYTES = 64 * 1024
MAX_REASON = 500  # characters of a watcher's stop reason that the trainer shows


class Request(NamedTuple):
    """What a watcher asks of the trainer: a new patience, a stop (with its reason), or both."""

    patience: int | None
    stop_reason: str | None


def parse_request(request: Any) -> Request:
    """The request's meaning; odd values (another program's, a hand edit) are ignored, never fatal."""
    if not isinstance(request, dict):
        return Request(None, None)
    patience = request.get("patience")
    if not (isinstance(patience, int) and not isinstance(patience, bool) and 0 <= patience <= MAX_PATIENCE):
        patience = None
    reason = None
    stop = request.get("stop")
    if isinstance(stop, dict):
        reason = stop.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            reason = sentence("watcher")
        reason = reason[:MAX_REASON]
    return Request(patience, reason)


def control_path(log_path: str | Path) -> Path:
    path = Path(log_path)
    return path.with_name(path.stem + ".control.json")


def read_request(path: Path) -> dict[str, Any]:
    """The current request, or {} if there is none (or it cannot be read: never fatal). Only a
    regular file is read: a FIFO put in its place would block the training loop at its next check."""
    try:
        found = os.stat(path)
        if not stat.S_ISREG(found.st_mode) or found.st_size > MAX_REQUEST_BYTES:
            return {}  # not a file a watcher writes: not a request
        with open(path, encoding="utf-8") as stream:
            request = json.load(stream)
    except (OSError, ValueError, RecursionError):  # missing, unreadable, not JSON, nested too deeply
        return {}
    if not isinstance(request, dict) or request.get("version") != VERSION:
        return {}
    return request


def write_request(path: Path, **changes: Any) -> dict[str, Any]:
    """Merge ``changes`` into the request at ``path``, atomically; returns the new request."""
    request = read_request(path) or {"version": VERSION}
    request.update(changes)
    request["written_at"] = time.time()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with open(partial, "w", encoding="utf-8") as stream:
        json.dump(request, stream)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(partial, path)
    return request


class ControlFile:
    """The trainer's side: notices new requests cheaply (a stat, then a read on change)."""

    def __init__(self, log_path: str | Path) -> None:
        self.path = control_path(log_path)
        self._seen: tuple | None = None
        try:  # a request left by an earlier run with this name is not for this one
            self.path.unlink()
        except FileNotFoundError:
            pass

    def poll(self) -> Request | None:
        """The request if it changed since the last poll, else None."""
        try:
            found = os.stat(self.path)
        except OSError:  # none, or a symlink loop: no request
            return None
        signature = (found.st_mtime_ns, found.st_size, found.st_ino)
        if signature == self._seen:
            return None
        self._seen = signature
        return parse_request(read_request(self.path))
