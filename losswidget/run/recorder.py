"""Values into the history: the per-step buffer, epoch numbering, and the log file.

``log_step`` only appends to a list (floats, or device tensors kept as they are or as one-element
copies, converted in bulk later: no device synchronisation per step); :meth:`Recorder.flush_steps`
moves the buffer into the history and the log file at frames and epoch boundaries.

Threads: ``log_step`` and ``log`` may be called from any thread of the process (README,
"Guarantees"). A list append is atomic, so the per-step path takes no lock; everything that moves
values into the history or the file holds :attr:`Recorder.lock`, so that no step is taken twice or
lost and the file stays whole. A forked process (a DataLoader worker) holds a copy of the monitor
whose values could reach neither the chart nor the file: it is refused by name.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from losswidget.core.history import History
from losswidget.core.values import META_TEXT, changed_since_logged, detach_scalar, is_tensor, tensors_to_floats
from losswidget.files.log_writer import HistoryWriter, LogFileLost

_PACKAGE = str(Path(__file__).resolve().parents[1])


def _user_stacklevel() -> int:
    """The ``stacklevel`` that names the first caller outside losswidget, for a warning raised
    from code reached by several paths (a step, an epoch's end, a frame)."""
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


class StepBuffer:
    """The per-step path's state in one slotted object, so that ``log_step`` touches as little
    memory as possible between training steps (in a torch loop every line runs with cold caches:
    state spread over the monitor's objects cost several microseconds per step, measured).

    ``values``: step values waiting for the history (floats, or device tensors), the same list
    for the buffer's life. ``has_tensors``: some of them are tensors (the flush converts those in
    one copy). ``tensor_type``: ``torch.Tensor`` once one was logged (the fast paths' test).
    ``alias_device``: a fresh device loss may be kept as it is (false once one was changed in place
    after it was logged: every device value is copied from then on). ``until_clock``: steps left
    until ``log_step`` reads the clock."""

    __slots__ = ("alias_device", "has_tensors", "tensor_type", "until_clock", "values")

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.has_tensors = False
        self.tensor_type: type | None = None
        self.alias_device = True
        self.until_clock = 1


class Recorder:
    def __init__(self, name: str | None = None, writer: HistoryWriter | None = None) -> None:
        self.history = History(name)
        self.writer = writer
        self.steps = StepBuffer()
        self.next_epoch = 0
        self.epoch_open = False
        self.current_epoch: int | None = None
        self._file_problem: str | None = None
        self.steps_all_non_finite = False  # the epoch just closed logged steps, none of them finite
        self._meta_steps = 0  # step losses on the meta device met by the flush under way
        self.lock = threading.RLock()  # held while values move into the history and the file
        self.pid = os.getpid()

    def check_process(self) -> None:
        """RuntimeError in a forked copy of the process that made the monitor (a DataLoader worker):
        what it logs would reach neither the chart nor the file."""
        if os.getpid() != self.pid:
            raise RuntimeError(
                f"losswidget: this monitor belongs to process {self.pid}, and log()/log_step() was called in "
                f"process {os.getpid()}, a forked copy of it (a DataLoader worker, a multiprocessing Pool): "
                "values logged there reach neither the chart nor the log file. Return the loss to the "
                "training loop and log it there."
            )

    # -- the log file ----------------------------------------------------------------------

    def write(self, method: str, *args: Any) -> None:
        """Append to the log file. A failing file never stops training: the history in memory is
        complete, writing stops, and a warning and the status line name the file and the error."""
        if self.writer is None:
            return
        try:
            getattr(self.writer, method)(*args)
        except (OSError, ValueError) as error:
            writer, self.writer = self.writer, None
            path = writer.path
            try:
                writer.close()
            except OSError:
                pass  # the file is already failing: what matters is said below
            reason = str(error) if isinstance(error, LogFileLost) else f"{type(error).__name__}: {error}"
            self._file_problem = (
                f"The log file {str(path)!r} could not be written ({reason}); the history "
                "is complete in memory: monitor.history.save(...) saves it elsewhere."
            )
            warnings.warn("losswidget: " + self._file_problem, stacklevel=4)

    def file_problem(self) -> str | None:
        return self._file_problem

    # -- steps ---------------------------------------------------------------------------

    def step_value(self, train: Any) -> Any:
        """The slow path of ``log_step``: validate; a float, or a device tensor (kept as it is, or a
        copy) for later."""
        value = detach_scalar(train, "train", copy=not self.steps.alias_device)
        if is_tensor(train) and type(train).__name__ == "Tensor":
            self.steps.tensor_type = type(train)
        if not isinstance(value, float):
            self.steps.has_tensors = True
        return value

    def flush_steps(self) -> None:
        """Move the pending step values into the history. It may run on any thread while
        ``log_step`` appends on others: only the values read are removed, under the lock."""
        with self.lock:
            self.check_process()
            steps = self.steps
            pending = steps.values
            count = len(pending)
            if not count:
                return
            taken = pending[:count]
            # has_tensors can be a step behind another thread's append: a list it missed is converted too
            values = self._as_floats(taken) if steps.has_tensors else taken
            epoch = self.epoch_now
            try:
                self.history.log_steps(values, epoch)
            except TypeError:
                if values is not taken:
                    raise
                values = self._as_floats(taken)
                self.history.log_steps(values, epoch)
            del pending[:count]  # only once recorded: a failing conversion keeps the values for the next try
            steps.has_tensors = any(not isinstance(v, float) for v in pending)  # usually empty: O(1)
            self.write("write_steps", values, epoch)
            if self._meta_steps:
                count, self._meta_steps = self._meta_steps, 0
                raise ValueError(
                    f"'train' given to log_step {META_TEXT}; {count} such step(s) were recorded as gaps (NaN)"
                )

    def _as_floats(self, taken: list[Any]) -> np.ndarray:
        """Pending values (floats and tensors) as one array: the tensors in one copy."""
        values = np.empty(len(taken))
        tensor_rows = [i for i, v in enumerate(taken) if not isinstance(v, float)]
        floats = [i for i, v in enumerate(taken) if isinstance(v, float)]
        values[floats] = [taken[i] for i in floats]
        if tensor_rows:
            tensors = [taken[i] for i in tensor_rows]
            meta = [i for i, tensor in enumerate(tensors) if tensor.is_meta]
            if meta:  # no value to read: recorded as NaN (a gap), then refused by name once recorded
                self._meta_steps += len(meta)
                tensors = [
                    tensor.new_full((), math.nan, device="cpu") if tensor.is_meta else tensor for tensor in tensors
                ]
            values[tensor_rows] = tensors_to_floats(tensors)
            if self.steps.alias_device:  # once copying, nothing pending can be an alias
                changed = changed_since_logged(tensors)
                if changed:
                    self._changed_in_place(len(changed), len(tensors))
        return values

    def _changed_in_place(self, changed: int, kept: int) -> None:
        """Loss tensors kept as aliases were changed in place after ``log_step``: their value after
        the change is all there is now. Say so, and copy every device value from here on."""
        self.steps.alias_device = False
        warnings.warn(
            f"losswidget: {changed} of the last {kept} loss tensors given to log_step were changed in place "
            "after they were logged (e.g. `loss /= n` after log_step), so their value after the change was "
            "recorded. From now on this monitor copies each device value when it is logged (exact, one small "
            "device copy per step); log the loss after changing it, or change it out of place, to keep "
            "logging copy-free.",
            stacklevel=_user_stacklevel(),
        )

    # -- epochs --------------------------------------------------------------------------

    @property
    def epoch_now(self) -> int:
        """The epoch a value logged now belongs to."""
        return self.current_epoch if self.epoch_open else self.next_epoch  # type: ignore[return-value]

    def log_epoch(self, values: dict[str, float]) -> tuple[int, list[str]]:
        """Record one epoch's values; (its epoch, the names that replaced a value logged earlier).
        The caller holds :attr:`lock` (its decision on the values belongs with them)."""
        if self.epoch_open:
            self.check_process()
        else:
            self.flush_steps()  # which checks the process
        epoch = self.epoch_now
        replaced = self.history.log_checked_epoch(epoch, values)
        self.write("write_epoch", {"epoch": epoch, **values})
        if not self.epoch_open:
            self.next_epoch = epoch + 1
        return epoch, replaced

    def open_epoch(self, epoch: int) -> None:
        with self.lock:
            self.flush_steps()
            self.current_epoch = epoch
            self.epoch_open = True

    def close_epoch(self) -> bool:
        """End the open epoch; False when nothing was logged in it (its number is used again)."""
        with self.lock:
            return self._close_epoch()

    def _close_epoch(self) -> bool:
        self.flush_steps()
        if not self.epoch_open:
            return False
        epoch = self.current_epoch
        self.epoch_open = False
        history = self.history
        logged_epoch = history.last_epoch == epoch
        if not (logged_epoch or history.last_step_epoch == epoch):
            return False
        self.next_epoch = epoch + 1  # type: ignore[operator]
        self.steps_all_non_finite = False
        if not logged_epoch or math.isnan(history.last_value("train")):
            self._fill_train_from_steps(epoch)  # type: ignore[arg-type]
        return True

    def _fill_train_from_steps(self, epoch: int) -> None:
        """An epoch without a logged train loss gets the mean of its finite step losses."""
        first = int(np.searchsorted(self.history.step_epoch, epoch, side="left"))
        last = int(np.searchsorted(self.history.step_epoch, epoch, side="right"))
        steps = self.history.step_train[first:last]
        finite = steps[np.isfinite(steps)]
        self.steps_all_non_finite = steps.size > 0 and finite.size == 0
        if finite.size:
            values = {"train": float(finite.mean())}
            self.history.log_epoch(epoch, values)
            self.write("write_epoch", {"epoch": epoch, **values})

    def new_history(self, name: str | None) -> History:
        """Start a fresh run: the finished history is returned, epochs count from 0 again."""
        with self.lock:
            self.flush_steps()
            finished, self.history = self.history, History(name)
            self.next_epoch = 0
            return finished
