"""The monitor's live log (``log_file=``) as an output: :class:`~losswidget.files.log_writer.HistoryWriter`.

Made in the monitor's constructor, so that a path another monitor writes, a directory or a FIFO is
refused there, by name, before training starts; every later failure (a full disk, the file deleted
or replaced mid-run) turns the log off with the sentence the status has always said.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from losswidget.files.log_writer import HistoryWriter, LogFileLost
from losswidget.outputs.base import Output, RunInfo
from losswidget.outputs.worker import error_text


class WriterRecords(Output):
    """An output whose records go to one :class:`HistoryWriter` (``self.writer``; None: nothing is
    written): the epochs, the events and the loop's end, in the log file's format."""

    writer: HistoryWriter | None = None

    def epoch(self, epoch: int, values: Mapping[str, float], steps: int) -> None:
        if self.writer is not None:
            self.writer.write_epoch({"epoch": epoch, **values})

    def event(self, event: Any) -> None:
        if self.writer is not None:
            self.writer.write_event(event)

    def end(self, outcome: str, stop_code: str | None) -> None:
        if self.writer is not None:
            self.writer.write_end(outcome, stop_code)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class JsonlLog(WriterRecords):
    name = "log_file"
    on_training_thread = True

    def __init__(self, path: str | Path, run: RunInfo) -> None:
        self.writer = HistoryWriter(path, run.name, dict(run.rule))  # raises on refusal
        self.path = self.writer.path

    def open(self, run: RunInfo) -> None:
        if self.writer is None:  # the next run: a file of its own beside the first (x.run2.jsonl)
            self.writer = HistoryWriter.beside(self.path, run.name, dict(run.rule))
            self.path = self.writer.path

    def steps(self, losses: np.ndarray, epochs: np.ndarray, first: int) -> None:
        if self.writer is not None:
            self.writer.write_steps(losses, epochs)

    def failure(self, error: BaseException) -> str:
        reason = str(error) if isinstance(error, LogFileLost) else error_text(error)
        return (
            f"The log file {str(self.path)!r} could not be written ({reason}); the history "
            "is complete in memory: monitor.history.save(...) saves it elsewhere."
        )
