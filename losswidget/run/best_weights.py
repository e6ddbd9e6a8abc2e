"""The best epoch's weights: kept in memory (and on disk if asked), restored when the loop ends early.

The best epoch itself is the early-stopping decision's (``EarlyStopping.best_epoch``, min_delta
aware); this object only follows it: a snapshot whenever the decision's best changes, rolled
back with the decision when an epoch's validation value is logged again.

The snapshot (a CPU copy) is taken on the training thread; writing it to ``best_weights_file``
happens on a thread of its own, newest state first, so ``torch.save`` never slows training. A
file that cannot be written never stops training: the weights stay in memory, a warning and
the status line name the file and the error.

Where the monitor knows the optimizer, the snapshot also keeps the optimizer's state and that of
every torch scheduler stepping it (deep CPU copies), so that ``monitor.branch()`` can go back to
the best epoch and train on from there as it would have (:mod:`losswidget.run.branch_face`). They
are taken at the epoch boundary after the best moved (the state the next epoch would have begun
with: a scheduler stepped after ``log()`` included). Their memory: SGD without momentum keeps none,
SGD with momentum one copy of the weights, Adam and AdamW two, so with Adam a best epoch costs three
times the model's size in CPU memory instead of once (a 10 M-parameter float32 model: 40 MB of
weights, 80 MB more for Adam's ``exp_avg`` and ``exp_avg_sq``; ``benchmarks/RESULTS.md``).
``LiveLossMonitor(snapshot_optimizer=False)`` keeps the weights only (and ``branch()`` says it
cannot).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from losswidget.core.validate import check_regular_file, user_stacklevel
from losswidget.model import lr_steer
from losswidget.model.weights import cpu_copy, meta_tensors, misfit, restore, save_state, snapshot
from losswidget.outputs.worker import error_text


def check_weights_file(path: Any) -> Path | None:
    """Refuse at construction what can never be written: an empty path, a folder, an unwritable place."""
    if path is None:
        return None
    if not isinstance(path, (str, Path)):
        raise TypeError(f"'best_weights_file' must be a path: got {type(path).__name__}")
    if str(path).strip() == "":
        raise ValueError("'best_weights_file' is empty: give a file name such as 'best.pt', or None")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"'best_weights_file' {str(path)!r} is a folder: give a file name inside it")
    check_regular_file("best_weights_file", path)  # a FIFO would block the saving thread forever
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = path.with_name(path.name + ".partial")
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise ValueError(f"'best_weights_file' {str(path)!r} cannot be written: {error.strerror or error}") from None
    return path


class _FileSaver:
    """Writes the newest submitted state on its own thread; states submitted meanwhile are skipped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: str | None = None
        self._pending: dict | None = None
        self._busy = False
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, state: dict) -> None:
        with self._condition:
            self._pending = state
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="losswidget-weights", daemon=True)
                self._thread.start()
            self._condition.notify_all()

    def _run(self) -> None:
        while True:
            with self._condition:
                if self._pending is None:
                    self._condition.wait(timeout=5.0)
                    if self._pending is None:
                        return  # idle: the next submit starts a new thread
                state, self._pending, self._busy = self._pending, None, True
            try:
                save_state(self.path, state)
                self.error = None
            except Exception as error:  # a full disk, a removed folder: training goes on
                self.error = f"{type(error).__name__}: {error}"
            finally:
                with self._condition:
                    self._busy = False
                    self._condition.notify_all()

    def flush(self, timeout: float = 60.0) -> None:
        """Wait until the newest state is on disk (or failed)."""
        with self._condition:
            self._condition.wait_for(lambda: self._pending is None and not self._busy, timeout=timeout)


class BestWeights:
    def __init__(self, file: Path | None = None) -> None:
        self.model: Any = None
        self.state: dict | None = None
        self.epoch: int | None = None
        self.restored_epoch: int | None = None
        self._saver = _FileSaver(file) if file is not None else None
        self._warned = False
        self.optimizer_of: Callable[[], Any] = lambda: None  # the monitor's optimizer (None: not known)
        self.snapshot_optimizer = True
        self.reset()

    def reset(self) -> None:
        self.state = self.epoch = self.restored_epoch = None
        self._unkept_said = False  # a best epoch whose weights could not be copied was said (once a run)
        # The training state of the best epoch besides the weights: early stopping's checkpoint, the
        # optimizer's state_dict and each scheduler's (scheduler, state_dict); None until settled.
        self.stopper_state: tuple | None = None
        self.optimizer_state: dict | None = None
        self.scheduler_states: list[tuple[Any, dict]] = []
        self._due = False  # the best moved: the optimizer's state is taken at the next epoch boundary
        self._before_epoch: tuple = self._kept()

    def _kept(self) -> tuple:
        return self.state, self.epoch, self.stopper_state, self.optimizer_state, self.scheduler_states, self._due

    def begin_epoch(self) -> None:
        """Before an epoch's first validation value: what a re-logged value rolls back to."""
        self._before_epoch = self._kept()

    def roll_back(self) -> None:
        changed = self._before_epoch[1] != self.epoch
        self.state, self.epoch, self.stopper_state, self.optimizer_state, self.scheduler_states, self._due = (
            self._before_epoch
        )
        if changed and self._saver is not None and self.state is not None:
            self._saver.submit(self.state)

    def keep(self, epoch: int, stopper_state: tuple | None = None) -> None:
        """The decision's best moved to ``epoch``: snapshot the model as it is now; the optimizer's
        and schedulers' state follow at the next epoch boundary (:meth:`settle`)."""
        if self.model is None:
            return
        try:
            state = snapshot(self.model)
        except Exception as error:  # a tensor without a value (moved to 'meta' mid-run): never the run
            self._unkept(epoch, error)
            return
        self.state = state
        self.epoch, self.stopper_state = epoch, stopper_state
        self._due = self.snapshot_optimizer and self.optimizer_of() is not None
        if self._due:
            self.optimizer_state, self.scheduler_states = None, []
        if self._saver is not None:
            self._saver.submit(self.state)

    def _unkept(self, epoch: int, error: Exception) -> None:
        """The model could not be copied at its new best ``epoch``: no best weights at all from now on
        (restoring an earlier epoch's would be a wrong fact), said once; the next new best tries again."""
        self.state = self.epoch = self.stopper_state = self.optimizer_state = None
        self.scheduler_states, self._due = [], False
        if not self._unkept_said:
            self._unkept_said = True
            on_meta = meta_tensors(self.model)
            cause = f"{on_meta} on the 'meta' device, shapes without values" if on_meta else error_text(error)
            warnings.warn(
                f"losswidget: the best weights (epoch {epoch}) could not be kept ({cause}); training and its "
                "history go on, and no best weights are restored until a later best epoch's can be kept",
                stacklevel=user_stacklevel(),
            )

    def settle(self) -> None:
        """At an epoch boundary (training thread): if the best moved in the epoch just ended, keep the
        optimizer's and its schedulers' state now, as the next epoch begins with them."""
        if not self._due:
            return
        self._due = False
        optimizer = self.optimizer_of()
        if optimizer is None or not callable(getattr(optimizer, "state_dict", None)):
            return
        self.optimizer_state = cpu_copy(optimizer.state_dict())
        self.scheduler_states = [(each, cpu_copy(each.state_dict())) for each in lr_steer.schedulers_of(optimizer)]

    def branch_problem(self) -> str | None:
        """Why the best epoch's training cannot be taken up again, in words; None when it can."""
        if self.model is None:
            return "the monitor does not know the model: pass LiveLossMonitor(model=model)"
        if self.optimizer_of() is None:
            return (
                "the monitor does not know the optimizer, whose state must come back with the weights: "
                "pass LiveLossMonitor(optimizer=optimizer)"
            )
        if not self.snapshot_optimizer:
            return "the optimizer's state is not kept with the best weights (snapshot_optimizer=False)"
        if self.state is None:
            return "there is no best epoch yet: log a finite validation loss first"
        return None

    def restore_training(self) -> int:
        """The best epoch's weights, optimizer state and schedulers' states back (fresh copies: the
        snapshot stays as it was, for another branch); the epoch restored. RuntimeError, with nothing
        changed, when they no longer fit."""
        self.settle()
        problem = self.branch_problem() or misfit(self.model, self.state)  # type: ignore[arg-type]
        if problem is not None:
            raise RuntimeError(f"cannot go back to the best epoch: {problem}")
        restore(self.model, self.state)  # type: ignore[arg-type]
        if self.optimizer_state is not None:
            self.optimizer_of().load_state_dict(cpu_copy(self.optimizer_state))
        for scheduler, state in self.scheduler_states:
            scheduler.load_state_dict(cpu_copy(state))
        return self.epoch  # type: ignore[return-value]

    def restore(self, strict: bool = False) -> int | None:
        """Load the best weights into the model; the epoch restored, or None when there is nothing to load.

        Weights that no longer fit the model (a layer added, removed or resized since the best epoch)
        are not loaded: at a loop's end the model keeps its current weights, with a warning, and the run
        ends as it would (its end record written); ``strict`` (``restore_best()``) raises instead."""
        if self.model is None or self.state is None:
            return None
        problem = misfit(self.model, self.state)
        if problem is not None:
            words = f"the best weights (epoch {self.epoch}) no longer fit the model: {problem}"
            if strict:
                raise RuntimeError(f"{words}; start a new run for a changed model: monitor.new_run(model=model)")
            warnings.warn(
                f"losswidget: {words}. The model keeps its current weights; change a model between runs "
                "(monitor.new_run(model=model)), not within one",
                stacklevel=user_stacklevel(),
            )
            return None
        restore(self.model, self.state)
        self.restored_epoch = self.epoch
        return self.epoch

    def file_problem(self) -> str | None:
        """Why the best weights file is not up to date, in words (None when it is, or there is none)."""
        if self._saver is None or self._saver.error is None:
            return None
        return (
            f"The best weights could not be written to {str(self._saver.path)!r} ({self._saver.error}); "
            "they are kept in memory (monitor.restore_best() loads them)."
        )

    def finish(self) -> None:
        """At the loop's end: the file holds the best weights; a failure is said once, as a warning."""
        if self._saver is None:
            return
        self._saver.flush()
        problem = self.file_problem()
        if problem and not self._warned:
            self._warned = True
            warnings.warn("losswidget: " + problem, stacklevel=4)
