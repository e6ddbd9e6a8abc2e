"""The declared list of outputs, as one: each record goes to every output still working.

One output failing (a full disk, an unwritable folder, a tracker that raises or went offline)
never stops training or another output: that output is closed and dropped, a ``losswidget:``
warning names it, and its sentence stays in the status (:meth:`Outputs.problems`). The per-step
path never reaches here: steps arrive in batches, when the recorder flushes.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from losswidget.core.validate import user_stacklevel
from losswidget.outputs.base import Output, RunInfo


def check_outputs(outputs: Any) -> list[Output]:
    """``outputs=`` as a list of :class:`Output`; TypeError naming the item that is not one."""
    if outputs is None:
        return []
    if isinstance(outputs, Output) or not isinstance(outputs, Iterable) or isinstance(outputs, (str, bytes)):
        raise TypeError(
            f"'outputs' must be a list of losswidget outputs (lw.Output subclasses): got {type(outputs).__name__}"
        )
    checked = list(outputs)
    for index, output in enumerate(checked):
        if not isinstance(output, Output):
            raise TypeError(
                f"'outputs'[{index}] must be a losswidget output (a subclass of lw.Output with open/epoch/steps/"
                f"end/close): got {type(output).__name__} {output!r:.80}"
            )
    return checked


class Outputs:
    def __init__(self, outputs: Iterable[Output] = ()) -> None:
        self._outputs: list[Output] = list(outputs)
        self._problems: list[str] = []
        self.run = RunInfo(None)

    def __len__(self) -> int:
        return len(self._outputs)

    def add(self, output: Output) -> None:
        self._outputs.append(output)

    def problems(self) -> tuple[str, ...]:
        return tuple(self._problems)

    def _each(self, method: str, *args: Any) -> None:
        for output in list(self._outputs):
            try:
                getattr(output, method)(*args)
            except Exception as error:  # any failure of one output is that output's alone
                self._drop(output, error)

    def _drop(self, output: Output, error: Exception) -> None:
        self._outputs.remove(output)
        try:
            output.close()
        except Exception:  # it already failed: what matters is said below
            pass
        sentence = output.failure(error)
        self._problems.append(sentence)
        warnings.warn("losswidget: " + sentence, stacklevel=user_stacklevel())

    # -- the records, in the order they are made -------------------------------------------

    def open(self, run: RunInfo) -> None:
        self.run = run
        self._each("open", run)

    def epoch(self, epoch: int, values: Mapping[str, float], steps: int) -> None:
        self._each("epoch", epoch, values, steps)

    def steps(self, losses: np.ndarray, epochs: np.ndarray, first: int) -> None:
        self._each("steps", losses, epochs, first)

    def event(self, event: Any) -> None:
        self._each("event", event)

    def end(self, outcome: str, stop_code: str | None) -> None:
        self._each("end", outcome, stop_code)

    def next_run(self, name: str | None) -> None:
        """``new_run()``: every output closes the finished run and opens the next."""
        self._each("close")
        self.open(RunInfo(name, self.run.number + 1, self.run.rule))


def open_outputs(run: RunInfo, log_file: Any = None, tensorboard: Any = None, outputs: Any = None) -> Outputs:
    """A monitor's outputs, opened for its first run: the log file (refused here, by name, when it
    cannot be ours), TensorBoard's folder, then the user's own, in that order. Every argument is
    checked before anything is created."""
    from losswidget.outputs.jsonl import JsonlLog
    from losswidget.outputs.tensorboard import TensorBoardLog

    declared = check_outputs(outputs)
    board = None if tensorboard is None else TensorBoardLog(tensorboard)
    opened = Outputs()
    if log_file is not None:  # last of the checks: it creates the file
        opened.add(JsonlLog(log_file, run))
    for output in ([board] if board else []) + declared:
        opened.add(output)
    opened.open(run)
    return opened
