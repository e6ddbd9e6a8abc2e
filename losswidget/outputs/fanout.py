"""The declared list of outputs, as one: each record goes to every output still working.

One output failing (a full disk, an unwritable folder, a tracker that raises or went offline)
never stops training or another output: that output is closed and dropped, a ``losswidget:``
warning names it, and its sentence stays in the status (:meth:`Outputs.problems`). The per-step
path never reaches here: steps arrive in batches, when the recorder flushes.

The log file and TensorBoard are ours (a local file each, flushed per record): they are written
here, on the recording thread. Every other output (a tracker, the user's own) runs on a thread of
its own (:mod:`losswidget.outputs.worker`): it can never slow, stop or hang training. Each output
gets its own copy of each record: an output that changes the dict it was given changes nothing
another output, the history or early stopping sees.
"""

from __future__ import annotations

import time
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from losswidget.core.validate import user_stacklevel
from losswidget.outputs import worker as worker_module
from losswidget.outputs.base import Output, RunInfo
from losswidget.outputs.worker import OutputStalled, Worker


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
        self._entries: list[tuple[Output, Worker | None]] = []  # each output, and its own thread if it has one
        self._workers: list[Worker] = []
        self._problems: list[str] = []
        self._said: dict[int, str | None] = {}  # the notice last said of each output
        self.run = RunInfo(None)
        for output in outputs:
            self.add(output)
        weakref.finalize(self, _retire, self._workers)  # the monitor is gone: its outputs' threads end

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, output: Output) -> None:
        worker = None if output.on_training_thread else Worker(output)
        if worker is not None:
            self._workers.append(worker)
        self._entries.append((output, worker))

    def problems(self) -> tuple[str, ...]:
        """The sentences of outputs turned off, then each working output's passing trouble (its ``notice``)."""
        notices = (getattr(output, "notice", None) for output, _worker in list(self._entries))
        return (*self._problems, *(notice for notice in notices if isinstance(notice, str) and notice))

    def _say_notice(self, output: Output) -> None:
        """A new ``notice`` of ``output`` (set on its own thread) said once, here where the user's cell hears it."""
        notice = getattr(output, "notice", None)
        if notice and self._said.get(id(output)) != notice:
            warnings.warn("losswidget: " + notice, stacklevel=user_stacklevel())
        self._said[id(output)] = notice

    def _each(self, method: str, args: Callable[[], tuple[Any, ...]]) -> None:
        """``method`` of every output, each with its own ``args()`` (what one changes, no other sees)."""
        for output, worker in list(self._entries):
            if worker is None:
                try:
                    getattr(output, method)(*args())
                except Exception as error:  # any failure of one output is that output's alone
                    self._drop(output, worker, error)
            else:
                problem = worker.error if worker.error is not None else worker.submit(method, *args())
                if problem is not None:
                    self._drop(output, worker, problem)
                elif output.notice is not self._said.get(id(output)):
                    self._say_notice(output)

    def wait(self, seconds: float | None = None) -> None:
        """Wait until the outputs on threads of their own have taken every record sent, at most
        ``seconds`` in all (:data:`~losswidget.outputs.worker.END_WAIT_SECONDS`); one that has not is
        turned off."""
        seconds = worker_module.END_WAIT_SECONDS if seconds is None else seconds
        deadline = time.monotonic() + seconds
        for output, worker in list(self._entries):
            if worker is not None:
                done = worker.wait(deadline - time.monotonic())
                problem = worker.error if worker.error is not None else None if done else worker.behind(seconds)
                if problem is not None:
                    self._drop(output, worker, problem)

    def _drop(self, output: Output, worker: Worker | None, error: BaseException) -> None:
        self._entries = [entry for entry in self._entries if entry[0] is not output]
        if worker is None:
            try:
                output.close()
            except Exception:  # it already failed: what matters is said below
                pass
        else:  # closed on its own thread: a hung output's close() could hang training too
            worker.drop()
            self._workers.remove(worker)
            if not isinstance(error, OutputStalled):  # it is free: its close() is waited for, within the bound
                worker.join(worker_module.END_WAIT_SECONDS)
        try:
            sentence = output.failure(error)
        except Exception:  # a user's failure() that fails: the default words
            sentence = Output.failure(output, error)
        self._problems.append(sentence)
        warnings.warn("losswidget: " + sentence, stacklevel=user_stacklevel())

    # -- the records, in the order they are made -------------------------------------------

    def open(self, run: RunInfo) -> None:
        self.run = run
        self._each("open", lambda: (RunInfo(run.name, run.number, dict(run.rule)),))

    def epoch(self, epoch: int, values: Mapping[str, float], steps: int) -> None:
        self._each("epoch", lambda: (epoch, dict(values), steps))

    def steps(self, losses: np.ndarray, epochs: np.ndarray, first: int) -> None:
        self._each("steps", lambda: (losses.copy(), epochs.copy(), first))

    def event(self, event: Any) -> None:
        self._each("event", lambda: (event,))  # an event is frozen: one for every output

    def end(self, outcome: str, stop_code: str | None) -> None:
        """A loop ended: once every output has its records (``run.finish()`` may follow), within the bound."""
        self._each("end", lambda: (outcome, stop_code))
        self.wait()

    def next_run(self, name: str | None) -> None:
        """``new_run()``: every output closes the finished run and opens the next."""
        self._each("close", tuple)
        self.open(RunInfo(name, self.run.number + 1, self.run.rule))
        self.wait()


def _retire(workers: list[Worker]) -> None:
    for worker in workers:
        worker.retire()


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
