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
import threading
import warnings
from typing import Any

import numpy as np

from losswidget.core.history import History
from losswidget.core.validate import user_stacklevel
from losswidget.core.values import META_TEXT, changed_since_logged, detach_scalar, is_tensor, tensors_to_floats
from losswidget.model.rates import LearningRates
from losswidget.outputs.fanout import Outputs


class StepBuffer:
    """The per-step path's state in one slotted object, so that ``log_step`` touches as little
    memory as possible between training steps (in a torch loop every line runs with cold caches:
    state spread over the monitor's objects cost several microseconds per step, measured).

    ``values``: step values waiting for the history (floats, or device tensors), the same list
    for the buffer's life. ``has_tensors``: some of them are tensors (the flush converts those in
    one copy). ``tensor_type``: ``torch.Tensor`` once one was logged (the fast paths' test).
    ``alias_device``: a fresh device loss may be kept as it is (false once one was changed in place
    after it was logged: every device value is copied from then on). ``until_clock``: steps left
    until ``log_step`` reads the clock. ``steer``: a learning-rate change or a pause is pending
    (:mod:`losswidget.run.steering`), the one flag ``log_step`` reads for them."""

    __slots__ = ("alias_device", "has_tensors", "steer", "tensor_type", "until_clock", "values")

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.has_tensors = False
        self.tensor_type: type | None = None
        self.alias_device = True
        self.until_clock = 1
        self.steer = False


class Recorder:
    def __init__(self, name: str | None = None, outputs: Outputs | None = None) -> None:
        self.history = History(name)
        self.outputs = Outputs() if outputs is None else outputs  # the log file, TensorBoard, trackers...
        self.rates: LearningRates | None = None  # the optimizer's learning rates, read once an epoch
        self._epoch_rates: dict[str, float] = {}  # as the open epoch began: the rates it trained with
        self.steps = StepBuffer()
        self.next_epoch = 0
        self.epoch_open = False
        self.current_epoch: int | None = None
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

    def write_end(self, outcome: str, stop_code: str | None) -> None:
        with self.lock:
            self.outputs.end(outcome, stop_code)

    def _write_epoch(self, epoch: int, values: dict[str, float]) -> None:
        self.outputs.epoch(epoch, values, self.history.n_steps)

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

    def flush_steps(self, say_meta: bool = True) -> None:
        """Move the pending step values into the history. It may run on any thread while
        ``log_step`` appends on others: only the values read are removed, under the lock.
        ``say_meta=False``: meta-device steps (recorded as gaps) are refused by a later flush, not
        this one (an epoch's values logged after them are recorded first)."""
        with self.lock:
            self.check_process()
            if self.steps.values:
                self._move_steps()
            if self._meta_steps and say_meta:
                count, self._meta_steps = self._meta_steps, 0
                raise ValueError(
                    f"'train' given to log_step {META_TEXT}; {count} such step(s) were recorded as gaps (NaN)"
                )

    def _move_steps(self) -> None:
        """The pending steps into the history and the outputs (the caller holds the lock)."""
        steps = self.steps
        pending = steps.values
        count = len(pending)
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
        if self.outputs:
            first = self.history.n_steps - count
            self.outputs.steps(np.asarray(values, dtype=np.float64), self.history.step_epoch[first:].copy(), first)

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
            stacklevel=user_stacklevel(),
        )

    # -- epochs --------------------------------------------------------------------------

    @property
    def epoch_now(self) -> int:
        """The epoch a value logged now belongs to."""
        return self.current_epoch if self.epoch_open else self.next_epoch  # type: ignore[return-value]

    def log_epoch(self, values: dict[str, float]) -> tuple[int, list[str]]:
        """Record one epoch's values; (its epoch, the names that replaced a value logged earlier).
        The caller holds :attr:`lock` (its decision on the values belongs with them)."""
        # Which checks the process; the outputs get the steps before the epoch's values.
        self.flush_steps(say_meta=not self.epoch_open)
        if self.rates is not None and not self.epoch_open:  # an epoch of its own (outside epochs())
            rates, self._epoch_rates = self._epoch_rates or self._read_rates(), {}  # as it began, else now
            values = {**rates, **values}
        epoch = self.epoch_now
        replaced = self.history.log_checked_epoch(epoch, values)
        self._write_epoch(epoch, values)
        if not self.epoch_open:
            self.next_epoch = epoch + 1
        return epoch, replaced

    def open_epoch(self, epoch: int) -> None:
        with self.lock:
            self.flush_steps()
            self.note_rates()
            self.current_epoch = epoch
            self.epoch_open = True

    def note_rates(self) -> None:
        """An epoch begins: the learning rates it trains with (a scheduler may change them before
        its values are logged)."""
        self._epoch_rates = self._read_rates()

    @property
    def before_first_step(self) -> bool:
        """An epoch is open and has logged no step yet, in a run that logs its steps (so that this
        is the epoch's top, where a loop's own code runs, not a loop that never calls log_step)."""
        last = self.history.last_step_epoch
        return self.epoch_open and not self.steps.values and last is not None and last != self.current_epoch

    def _read_rates(self) -> dict[str, float]:
        """The optimizer's rates now; one that can no longer be read (a rate replaced by something
        that is not a number) is said once and recording it stops: training never fails for it."""
        if self.rates is None:
            return {}
        try:
            return self.rates.read()
        except TypeError as error:
            self.rates = None
            warnings.warn(f"losswidget: {error}; the learning rate is no longer recorded", stacklevel=user_stacklevel())
            return {}

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
        rates, self._epoch_rates = self._epoch_rates, {}
        if rates and history.last_epoch == epoch:  # a rate the loop logged itself is kept
            rates = {
                name: rate
                for name, rate in rates.items()
                if name not in history or math.isnan(history.last_value(name))
            }
            if rates:
                history.log_checked_epoch(epoch, rates)  # type: ignore[arg-type]
                self._write_epoch(epoch, rates)  # type: ignore[arg-type]
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
            self._write_epoch(epoch, values)

    def new_history(self, name: str | None) -> History:
        """Start a fresh run: the finished history is returned, epochs count from 0 again."""
        with self.lock:
            self.flush_steps()
            finished, self.history = self.history, History(name)
            self.next_epoch = 0
            self.outputs.next_run(name)  # every run is kept: the log's next one in a file of its own
            return finished
