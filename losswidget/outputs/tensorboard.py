"""TensorBoard as an output: ``LiveLossMonitor(tensorboard="runs/tb")`` or ``outputs=[TensorBoardLog(...)]``.

Writes standard event files (:mod:`losswidget.core.tensorboard_events`, no TensorFlow, tensorboardX
or protobuf needed) with the tags of :mod:`losswidget.core.history_tensorboard`, flushed with every
record, so ``tensorboard --logdir runs/tb`` follows the run live and a crash loses nothing written.
The first run goes into the folder itself, each later one (``new_run``) into a subfolder named
after it, which TensorBoard lists as a run of its own.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from losswidget.core import history_tensorboard as tb
from losswidget.core import tensorboard_events as events
from losswidget.outputs.base import Output, RunInfo


class TensorBoardLog(Output):
    """Event files in ``folder`` (created when the run opens)."""

    name = "tensorboard"
    on_training_thread = True

    def __init__(self, folder: str | Path) -> None:
        self.folder = tb.check_folder("tensorboard", folder)
        self.path: Path | None = None  # the event file being written
        self._stream: BinaryIO | None = None

    def open(self, run: RunInfo) -> None:
        folder = self.folder if run.number == 1 else self.folder / run.label
        folder.mkdir(parents=True, exist_ok=True)
        self.path = events.new_file_name(folder)
        self._stream = open(self.path, "ab")
        weakref.finalize(self, _close, self._stream)
        self._write(events.version_event())

    def _write(self, data: bytes) -> None:
        if data and self._stream is not None:
            self._stream.write(data)
            self._stream.flush()

    def epoch(self, epoch: int, values: Mapping[str, float], steps: int) -> None:
        self._write(tb.epoch_event(epoch, values))

    def steps(self, losses: np.ndarray, epochs: np.ndarray, first: int) -> None:
        self._write(tb.step_events(losses, epochs, first))

    def close(self) -> None:
        stream, self._stream = self._stream, None
        _close(stream)

    def failure(self, error: BaseException) -> str:
        return (
            f"TensorBoard's event file {str(self.path or self.folder)!r} could not be written "
            f"({type(error).__name__}: {error}) and TensorBoard output was turned off; training, the chart "
            "and the other outputs go on (monitor.history.to_tensorboard(...) writes the whole run later)."
        )


def _close(stream: Any) -> None:
    if stream is not None:
        try:
            stream.close()
        except OSError:
            pass  # a full disk: it was said when the write failed
