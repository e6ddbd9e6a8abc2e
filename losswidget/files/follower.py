"""Following a growing JSONL log as another process writes it: the public record reader a watcher
composes (the format: :mod:`losswidget.core.history_jsonl`).

Complete lines only: a half-written line waits for the next poll. A log that is truncated or
replaced (another inode, or shorter than what was read) is read again from the start.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from losswidget.core.history import History
from losswidget.core.history_jsonl import apply_record, read_header


class FileFollower:
    """Incrementally parses one growing JSONL history file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.history = History(path.stem)
        self.ended: dict | None = None
        self.min_delta = 0.0  # the job's early stopping's, from the log's header
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
                header = read_header(record, str(self.path))
                self.history.name = header.name or self.path.stem
                self.min_delta = header.min_delta
                self._header_seen = True
            elif isinstance(record, dict) and record.get("kind") == "end":
                self.ended = record
            else:
                if self.ended is not None:  # the loop was continued after an end record
                    self.ended = None
                apply_record(self.history, record)
        except Exception as error:  # any content: the follower never dies on data
            text = str(error) or type(error).__name__
            self.problem = f"a record could not be read ({text[:200]}); later records are still followed"
