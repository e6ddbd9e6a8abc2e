"""Following a growing JSONL log as another process writes it: the public record reader a watcher
composes (the format: :mod:`losswidget.core.history_jsonl`).

Complete lines only: a half-written line waits for the next poll. The follower knows which run it
follows: at every poll the file's identity (device and inode), its size and its header line (which
holds the writer's run id) are checked, so a log that is truncated or replaced, even by a new run that
reuses the inode and has grown past the old size between two polls, is read again from the start as
the new run and said, never mixed with the old one.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from stat import S_ISREG
from typing import Any

from losswidget.core.history import History
from losswidget.core.history_jsonl import apply_record, read_header

_NOT_A_FILE = "the log's path does not name a regular file now (a directory, a FIFO): waiting for a log"


class FileFollower:
    """Incrementally parses one growing JSONL history file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.history = History(path.stem)
        self.ended: dict | None = None
        self.rule = {"min_delta": 0.0, "min_delta_se": 0.0}  # the job's early stopping's, from the log's header
        self.header: dict = {}  # the log's first record as written (its writer's own fields included)
        self.problem: str | None = None
        self.updated: float | None = None
        self._offset = 0
        self._tail = b""
        self._identity: tuple | None = None
        self._header_seen = False
        self._header = b""  # the header line as read: a new run writes another (its run id)
        self._header_at = 0

    def _restart(self, why: str) -> None:
        self.history = History(self.path.stem)
        self.ended = None
        self.header = {}
        self._offset, self._tail, self._header_seen, self._header = 0, b"", False, b""
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
        if not S_ISREG(stat.st_mode):  # opening a FIFO would block the watcher; a directory cannot be read
            changed = self.problem != _NOT_A_FILE
            self.problem = _NOT_A_FILE
            return changed
        if self.problem == _NOT_A_FILE:
            self.problem, changed = None, True
        identity = (stat.st_dev, stat.st_ino)
        with open(self.path, "rb") as stream:
            if self._identity is not None and (
                identity != self._identity or stat.st_size < self._offset or not self._same_header(stream)
            ):
                self._restart("the log was replaced or rewritten (a new run at this path): following the new run")
                changed = True
            self._identity = identity
            if stat.st_size == self._offset:
                return changed
            stream.seek(self._offset)
            data = stream.read()
        position = self._offset - len(self._tail)  # where the first line below starts in the file
        self._offset += len(data)
        lines = (self._tail + data).split(b"\n")
        self._tail = lines.pop()  # an incomplete last line waits for the rest
        for line in lines:
            if line.strip():
                self._apply(line, position)
            position += len(line) + 1
        self.updated = time.time()
        return True

    @property
    def incomplete(self) -> bool:
        """True while the file ends in a line without its newline (written halfway, or its writer died)."""
        return bool(self._tail)

    def _same_header(self, stream: Any) -> bool:
        if not self._header:
            return True
        stream.seek(self._header_at)
        return stream.read(len(self._header)) == self._header

    def _apply(self, line: bytes, position: int) -> None:
        try:
            record = json.loads(line)
            if not self._header_seen:
                header = read_header(record, str(self.path))
                self._header, self._header_at = line, position
                self.header = record
                self.history.name = header.name or self.path.stem
                self.rule = {"min_delta": header.min_delta, "min_delta_se": header.min_delta_se}
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
