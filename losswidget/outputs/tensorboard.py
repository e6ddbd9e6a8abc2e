"""TensorBoard as an output: ``LiveLossMonitor(tensorboard="runs/tb")`` or ``outputs=[TensorBoardLog(...)]``.

Writes standard event files (:mod:`losswidget.core.tensorboard_events`, no TensorFlow, tensorboardX
or protobuf needed) with the tags of :mod:`losswidget.core.history_tensorboard`, flushed with every
record, so ``tensorboard --logdir runs/tb`` follows the run live and a crash loses nothing written.
The first run goes into the folder itself, each later one (``new_run``) into a subfolder named
after it, which TensorBoard lists as a run of its own; so does a first run that finds another
run's event files in the folder (a training cell run twice): two runs in one folder would read back
as one. Each event (a learning-rate change, a pause, a branch, a setting moved) is a text summary
``events`` with its sentence, at its step. A subfolder's name is the run's, made safe (nothing that
leaves the folder, at most 60 characters) and unique (``wide``, ``wide-2``). A value beyond float32
(a perplexity of e^95) is written as inf and said once per name; an event file deleted mid-run is
said, not written into the void.
"""

from __future__ import annotations

import os
import warnings
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from losswidget.core import history_tensorboard as tb
from losswidget.core import tensorboard_events as events
from losswidget.core.validate import user_stacklevel
from losswidget.outputs.base import Output, RunInfo
from losswidget.outputs.worker import error_text


class EventFileLost(OSError):
    """The event file being written was deleted (its folder removed) mid-run."""


class TensorBoardLog(Output):
    """Event files in ``folder`` (created when the run opens)."""

    name = "tensorboard"
    on_training_thread = True

    def __init__(self, folder: str | Path) -> None:
        self.folder = tb.check_folder("tensorboard", folder)
        self.path: Path | None = None  # the event file being written
        self._stream: BinaryIO | None = None
        self._beyond_said: set[str] = set()  # names whose values beyond float32 were said

    def open(self, run: RunInfo) -> None:
        folder = self.folder
        if run.number > 1 or (
            folder.is_dir() and events.event_files(folder)
        ):  # another run's files: a folder of its own
            folder = tb.run_folder(self.folder, run.label)
        folder.mkdir(parents=True, exist_ok=True)
        self.path = events.new_file_name(folder)
        self._stream = open(self.path, "ab")
        weakref.finalize(self, _close, self._stream)
        self._write(events.version_event())

    def _write(self, data: bytes) -> None:
        if data and self._stream is not None:
            if os.fstat(self._stream.fileno()).st_nlink == 0:  # one fstat a record: written into the void otherwise
                raise EventFileLost("it was deleted, or its folder removed, while the run was writing it")
            self._stream.write(data)
            self._stream.flush()

    def epoch(self, epoch: int, values: Mapping[str, float], steps: int) -> None:
        self._say_beyond(tb.beyond_float32(values))
        self._write(tb.epoch_event(epoch, values))

    def steps(self, losses: np.ndarray, epochs: np.ndarray, first: int) -> None:
        if np.fmax.reduce(np.abs(losses), initial=0.0) > tb.FLOAT32_MAX:  # one pass, NaN passed over
            beyond = np.flatnonzero(np.isfinite(losses) & (np.abs(losses) > tb.FLOAT32_MAX))
            if beyond.size:
                self._say_beyond({"train (a step loss)": float(losses[beyond[0]])})
        self._write(tb.step_events(losses, epochs, first))

    def event(self, event: Any) -> None:
        self._write(tb.event_text(event))

    def _say_beyond(self, values: dict[str, float]) -> None:
        for name, value in values.items():
            if name not in self._beyond_said:
                self._beyond_said.add(name)
                warnings.warn(tb.float32_sentence(name, value), stacklevel=user_stacklevel())

    def close(self) -> None:
        stream, self._stream = self._stream, None
        _close(stream)

    def failure(self, error: BaseException) -> str:
        return (
            f"TensorBoard's event file {str(self.path or self.folder)!r} could not be written "
            f"({error_text(error)}) and TensorBoard output was turned off; training, the chart "
            "and the other outputs go on (monitor.history.to_tensorboard(...) writes the whole run later)."
        )


def _close(stream: Any) -> None:
    if stream is not None:
        try:
            stream.close()
        except OSError:
            pass  # a full disk: it was said when the write failed
