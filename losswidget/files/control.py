"""Requests from a watcher to a training process: a small JSON file next to the run's log.

``runs/x.jsonl`` has its control file at ``runs/x.control.json``. A watcher writes it
atomically (a temporary file, then a rename), so the trainer never reads half a request;
the trainer checks it at each epoch boundary and a few times a second between steps.
Contents::

    {"version": 1, "stop": {"reason": "...", "requested_at": 1764000000.0}, "patience": 7,
     "pause": true, "rates": [{"n": 1, "factor": 0.5}, {"n": 2, "factor": 2.0}]}

``pause`` is a state (the trainer holds while it is true); ``rates`` are learning-rate changes, each
applied once, in order of ``n`` (the watcher keeps the last :data:`MAX_RATES`; a click is never
merged into another).

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
MAX_RATES = 50  # learning-rate changes a control file keeps (the trainer reads it a few times a second)
RATE_FACTORS = (1e-3, 1e3)  # a factor outside these is not a watcher's (×½ and ×2 are)


class Request(NamedTuple):
    """What a watcher asks of the trainer: a new patience, a stop (with its reason), a pause (True)
    or none (False), learning-rate changes ((n, factor), n increasing)."""

    patience: int | None
    stop_reason: str | None
    pause: bool | None = None
    rates: tuple[tuple[int, float], ...] = ()


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
    pause = request.get("pause")
    return Request(patience, reason, pause if isinstance(pause, bool) else None, _rates(request.get("rates")))


def _rates(found: Any) -> tuple[tuple[int, float], ...]:
    """The well-formed learning-rate changes, in order of ``n``; the rest ignored."""
    rates = []
    for item in found[-MAX_RATES:] if isinstance(found, list) else ():
        n, factor = (item.get("n"), item.get("factor")) if isinstance(item, dict) else (None, None)
        if isinstance(n, int) and not isinstance(n, bool) and isinstance(factor, (int, float)):
            if not isinstance(factor, bool) and RATE_FACTORS[0] <= factor <= RATE_FACTORS[1]:
                rates.append((n, float(factor)))
    return tuple(sorted(rates))


def add_rate(path: Path, factor: float) -> dict[str, Any]:
    """Append one learning-rate change to the request at ``path`` (numbered after the last)."""
    rates = read_request(path).get("rates")
    rates = [item for item in rates if isinstance(item, dict)] if isinstance(rates, list) else []
    n = max((item.get("n", 0) for item in rates if isinstance(item.get("n"), int)), default=0) + 1
    return write_request(path, rates=[*rates, {"n": n, "factor": float(factor)}][-MAX_RATES:])


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
