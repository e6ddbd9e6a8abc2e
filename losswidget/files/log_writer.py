"""A monitor's live log: a run appended to a ``.jsonl`` file as it happens (the format:
:mod:`losswidget.core.history_jsonl`)."""

from __future__ import annotations

import re
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from losswidget.core.history_jsonl import STEPS_PER_RECORD, end_line, epoch_line, header_line, steps_line
from losswidget.core.validate import check_regular_file


class HistoryWriter:
    """Append a run to a ``.jsonl`` file as it happens, flushing every record.

    A crash loses at most the steps not yet written (they go out in batches);
    :func:`load` reads the file back, skipping a torn last line.
    """

    def __init__(self, path: str | Path, name: str | None = None, min_delta: float | None = None) -> None:
        path = Path(path)
        if path.suffix.lower() != ".jsonl":
            raise ValueError(f"'log_file' must end in .jsonl: {str(path)!r}")
        if check_regular_file("log_file", path) and path.stat().st_size > 0:
            raise FileExistsError(
                f"'log_file' {str(path)!r} already holds a history: choose a new path or delete it "
                "(History.load reads the old one)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._stream = open(path, "a", encoding="utf-8")
        weakref.finalize(self, self._stream.close)  # closed when the monitor that writes it is gone
        self._min_delta = min_delta
        self._write(header_line(name, min_delta))

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()

    def write_epoch(self, record: dict[str, float]) -> None:
        self._write(epoch_line(record))

    def write_steps(self, train: Any, epoch: Any) -> None:
        train = np.asarray(train)
        epoch = np.broadcast_to(np.asarray(epoch), train.shape)
        for start in range(0, train.size, STEPS_PER_RECORD):
            self._stream.write(
                steps_line(train[start : start + STEPS_PER_RECORD], epoch[start : start + STEPS_PER_RECORD])
            )
        self._stream.flush()

    def next_run(self, name: str | None) -> HistoryWriter:
        """The writer of the next run (``new_run``): a new file beside this one, ``<stem>.run2.jsonl``,
        ``.run3``, ... (the first free number), so that every run is saved and each file loads alone."""
        self.close()
        stem = re.sub(r"\.run\d+$", "", self.path.stem)
        number = 2
        while (candidate := self.path.with_name(f"{stem}.run{number}.jsonl")).exists():
            number += 1
        return HistoryWriter(candidate, name, self._min_delta)

    def write_end(self, outcome: str, stop_code: str | None) -> None:
        """Mark the end of a training loop (a later loop may append more epochs)."""
        self._write(end_line(outcome, stop_code))

    def close(self) -> None:
        if not self._stream.closed:
            self._stream.close()
