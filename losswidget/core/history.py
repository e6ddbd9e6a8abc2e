"""Columnar record of a training run: per-epoch values and per-step losses.

Appends are amortised O(1) (growable numpy buffers); reading a column is a
read-only view, free of copies. Saving and loading: :mod:`losswidget.core.history_files`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from losswidget.core import history_files, history_tensorboard
from losswidget.core.column import Column
from losswidget.core.events import Event
from losswidget.core.replay import best_of, recorded_ses
from losswidget.core.validate import check_choice, check_float, check_int
from losswidget.core.values import _short, to_float

__all__ = ["History"]

RESERVED_NAMES = frozenset({"epoch", "step", "kind"})
MAX_EPOCH = 2**53  # whole numbers a float64 holds exactly: an epoch beyond is a mistake, not a run
MAX_NAME = 200  # characters: a legend's label; any longer name would not survive a CSV reader's field limit


def check_metric_name(name: Any) -> str:
    """A metric's name: a non-empty string of at most ``MAX_NAME`` printable characters (it is a
    legend label, a CSV column and a JSON key, and must come back from each as it went in)."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"metric names must be non-empty strings: {name!r}")
    if len(name) > MAX_NAME:
        raise ValueError(
            f"metric names must be at most {MAX_NAME} characters: got one of {len(name)} ({name[:40]!r}...)"
        )
    if not name.isprintable():
        raise ValueError(f"metric names must be printable (no newline, tab or control character): {name!r}")
    if name in RESERVED_NAMES:
        raise ValueError(f"{name!r} is reserved and cannot name a logged value; choose another name")
    return name


class History:
    """What a run recorded, column by column.

    Per epoch: ``epochs`` (ints, increasing), ``train``, ``val`` and any other
    named metric (``acc``...), NaN where an epoch did not log it. Per step:
    ``step_train`` and ``step_epoch`` (the epoch each step belongs to).
    """

    def __init__(self, name: str | None = None) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"'name' must be a string or None: {name!r}")
        self.name = name
        self._epochs = Column(np.int64)
        self._columns: dict[str, Column] = {"train": Column(), "val": Column()}
        self._step_train = Column()
        self._step_epoch = Column(np.int64)
        self.events: list[Event] = []  # learning-rate changes, pauses: losswidget.core.events

    # -- recording -----------------------------------------------------------------

    def log_epoch(self, epoch: int, values: dict[str, Any]) -> list[str]:
        """Record ``values`` for ``epoch``: a new row, or merged into the last row.

        Returns the names that replaced a value already logged for that epoch
        (the latest value is kept). Everything is validated before anything
        changes: a rejected call leaves the history as it was.
        """
        epoch = check_int("epoch", epoch, minimum=0, maximum=MAX_EPOCH)
        if not isinstance(values, Mapping):
            raise TypeError(
                f"'values' must be a dict of name to number, e.g. {{'train': 0.52, 'val': 0.61}}: got "
                f"{type(values).__name__} {_short(values)}"
            )
        converted = {check_metric_name(name): to_float(value, name) for name, value in values.items()}
        return self.log_checked_epoch(epoch, converted)

    def log_checked_epoch(self, epoch: int, values: dict[str, float]) -> list[str]:
        """:meth:`log_epoch` for names already checked and values already floats (the monitor's path:
        its ``log()`` validates and converts once)."""
        converted = values
        last = self.last_epoch
        if last is not None and epoch < last:
            raise ValueError(f"epochs must not go back: the last recorded epoch is {last}, got {epoch}")
        replaced: list[str] = []
        if last is None or epoch > last:
            self._epochs.append(epoch)
            for column in self._columns.values():
                column.append(math.nan)
        for name, value in converted.items():
            column = self._columns.get(name)
            if column is None:
                column = self._columns[name] = Column()
                column.extend(np.full(len(self._epochs), math.nan))
            elif not math.isnan(column.last()):
                replaced.append(name)
            column.set_last(value)
        return replaced

    def log_step(self, train: Any, epoch: int) -> None:
        value = to_float(train, "train")
        epoch = check_int("epoch", epoch, minimum=0)
        self._step_train.append(value)
        self._step_epoch.append(epoch)

    def log_steps(self, train: Any, epoch: Any) -> None:
        """Append many steps at once (arrays of equal length, or one epoch for all)."""
        if type(epoch) is int and 0 <= epoch <= MAX_EPOCH:  # the recorder's flush, once per frame and epoch
            before = len(self._step_train)
            try:
                self._step_train.extend(
                    train if type(train) is list else np.asarray(train, dtype=np.float64).reshape(-1)
                )
            except (TypeError, ValueError):  # nothing was added: the column takes all or none
                raise TypeError(f"'train' must be numbers: {_short(train)}") from None
            self._step_epoch.fill(epoch, len(self._step_train) - before)
            return
        try:
            train = np.asarray(train, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise TypeError(f"'train' must be numbers: {_short(train)}") from None
        if isinstance(epoch, int) and not isinstance(epoch, bool):
            epoch = check_int("epoch", epoch, minimum=0, maximum=MAX_EPOCH)
        epochs = np.asarray(epoch)
        if epochs.dtype.kind not in "iu" and not (
            epochs.dtype.kind == "f" and np.all(np.isfinite(epochs)) and np.all(epochs == np.round(epochs))
        ):
            raise TypeError(f"'epoch' must be whole numbers (one per step, or one for all): {_short(epoch)}")
        if epochs.size and epochs.max() > MAX_EPOCH:  # before int64 could wrap it
            raise ValueError(f"'epoch' must be <= {MAX_EPOCH}: {int(epochs.max())}")
        try:
            epoch = np.broadcast_to(epochs.astype(np.int64), train.shape)
        except ValueError:
            raise ValueError(
                f"'epoch' must be one number or one per step: {epochs.size} epochs for {train.size} steps"
            ) from None
        if epoch.size and epoch.min() < 0:
            raise ValueError(f"step epochs must be >= 0: {int(epoch.min())}")
        self._step_train.extend(train)
        self._step_epoch.extend(epoch)

    # -- reading -------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._epochs)

    @property
    def last_epoch(self) -> int | None:
        return self._epochs.last() if len(self._epochs) else None

    def last_value(self, name: str) -> float:
        """The last epoch's ``name`` (NaN when not logged), without a numpy call; the history must
        have an epoch."""
        return self._columns[name].last()

    @property
    def last_step_epoch(self) -> int | None:
        return self._step_epoch.last() if len(self._step_epoch) else None

    @property
    def epochs(self) -> np.ndarray:
        return self._epochs.values

    @property
    def train(self) -> np.ndarray:
        return self._columns["train"].values

    @property
    def val(self) -> np.ndarray:
        return self._columns["val"].values

    @property
    def metric_names(self) -> list[str]:
        """Names of the logged values other than train and val, in first-logged order."""
        return [name for name in self._columns if name not in ("train", "val")]

    @property
    def column_names(self) -> list[str]:
        return list(self._columns)

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self._columns[name].values
        except KeyError:
            known = ", ".join(repr(n) for n in self._columns)
            raise KeyError(f"no values named {name!r} were logged; known: {known}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    @property
    def lineage(self) -> tuple[str, int] | None:
        """(the run this one branched from, its epoch where this one begins): its branch event's; None."""
        return next(((e.parent, e.epoch) for e in self.events if e.kind == "branch"), None)  # type: ignore[misc]

    @property
    def n_steps(self) -> int:
        return len(self._step_train)

    @property
    def step_train(self) -> np.ndarray:
        return self._step_train.values

    @property
    def step_epoch(self) -> np.ndarray:
        return self._step_epoch.values

    def records(self) -> Iterator[dict[str, Any]]:
        """One dict per epoch: ``{"epoch": 3, "train": ..., "val": ..., ...}``; NaN where not logged."""
        columns = {name: column.values for name, column in self._columns.items()}
        for row, epoch in enumerate(self.epochs):
            yield {"epoch": int(epoch), **{name: float(values[row]) for name, values in columns.items()}}

    def best_epoch(
        self, name: str = "val", mode: str = "min", min_delta: float = 0.0, min_delta_se: float = 0.0
    ) -> int | None:
        """The epoch early stopping would call best on ``name``'s finite values, or None if there is none.

        The monitor's rule (:func:`~losswidget.core.replay.best_of`): a value counts as better
        only when it beats the best so far by more than ``min_delta`` (and ``min_delta_se`` standard
        errors of the difference: the ``val_diff_se`` a monitor with it records); the first of equals
        wins. A monitor's own ``best_epoch`` is this with its ``min_delta`` and ``min_delta_se``.
        """
        check_choice("mode", mode, ("min", "max"))
        min_delta = check_float("min_delta", min_delta, minimum=0.0)
        min_delta_se = check_float("min_delta_se", min_delta_se, minimum=0.0)
        ses = recorded_ses(self, min_delta_se)
        if min_delta_se and ses is None and np.isfinite(self[name]).sum() > 1:
            raise ValueError(
                "min_delta_se needs the standard errors a monitor with min_delta_se records ('val_diff_se'); "
                f"this history has {', '.join(map(repr, self.metric_names)) or 'no metrics'}"
            )
        best = best_of(self[name], self.epochs, min_delta, mode, min_delta_se, ses)
        return None if best is None else best[0]

    def copy(self) -> History:
        clone = History(self.name)
        clone._epochs.extend(self.epochs)
        clone._columns = {}
        for name, column in self._columns.items():
            clone._columns[name] = Column()
            clone._columns[name].extend(column.values)
        clone.log_steps(self.step_train, self.step_epoch)
        clone.events = list(self.events)
        return clone

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, History):
            return NotImplemented
        if self.column_names != other.column_names or self.name != other.name or self.events != other.events:
            return False
        pairs = [(self.epochs, other.epochs), (self.step_train, other.step_train), (self.step_epoch, other.step_epoch)]
        pairs += [(self[name], other[name]) for name in self.column_names]
        return all(a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f") for a, b in pairs)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        label = f"{self.name!r}, " if self.name else ""
        metrics = f", metrics={self.metric_names}" if self.metric_names else ""
        return f"History({label}epochs={len(self)}, steps={self.n_steps}{metrics})"

    # -- conversion and files --------------------------------------------------------

    def to_dataframe(self, steps: bool = False):
        """A pandas DataFrame of the epochs (index ``epoch``), or of the steps with ``steps=True``."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("History.to_dataframe() needs pandas: pip install pandas") from None
        if steps:
            frame = pd.DataFrame({"epoch": self.step_epoch.copy(), "train": self.step_train.copy()})
            frame.index.name = "step"
            return frame
        frame = pd.DataFrame({name: self[name].copy() for name in self.column_names})
        frame.index = pd.Index(self.epochs.copy(), name="epoch")
        return frame

    def save(self, path: str | Path) -> Path:
        """Write to ``.jsonl`` (lossless, appendable) or ``.csv``; returns the path."""
        return history_files.save(self, path)

    @classmethod
    def load(cls, path: str | Path) -> History:
        """Read a ``.jsonl`` or ``.csv`` file written by :meth:`save` or a monitor's ``log_file``."""
        return history_files.load(path, cls)

    def to_tensorboard(self, folder: str | Path) -> Path:
        """Write the run as a TensorBoard event file in ``folder``; returns the file."""
        return history_tensorboard.write_tensorboard(self, folder)

    @classmethod
    def from_tensorboard(cls, folder: str | Path, tags: Mapping[str, str] | None = None) -> History:
        """A TensorBoard run's scalars (``tags`` maps another tool's tags to names: {'eval/loss': 'val'})."""
        return history_tensorboard.read_tensorboard(folder, cls, tags)
