"""A growable 1-D numpy column: the storage of :class:`~losswidget.core.history.History` and of the
chart's incremental step smoothing."""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np


class Column:
    """A growable 1-D numpy buffer. Values go in and out through a memoryview of it, without a numpy
    call: on the per-epoch path, between training steps, each numpy call costs microseconds with
    cold caches (reading one value is 15x cheaper than numpy's ``a[i].item()``, writing 2x; a list
    of step values goes in packed by the ``array`` module)."""

    __slots__ = ("_data", "_items", "_size")

    def __init__(self, dtype: Any = np.float64, capacity: int = 64) -> None:
        self._data = np.empty(capacity, dtype=dtype)
        self._items = memoryview(self._data)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __getstate__(self) -> np.ndarray:  # copy and pickle: the memoryview cannot travel
        return self._data[: self._size].copy()

    def __setstate__(self, data: np.ndarray) -> None:
        self._data = np.array(data, copy=True)
        self._items = memoryview(self._data)
        self._size = self._data.size

    def _reserve(self, size: int) -> None:
        if size > len(self._items):
            grown = np.empty(max(size, 2 * self._data.size), dtype=self._data.dtype)
            grown[: self._size] = self._data[: self._size]
            self._data, self._items = grown, memoryview(grown)

    def append(self, value: Any) -> None:
        self._reserve(self._size + 1)
        self._items[self._size] = value
        self._size += 1

    def extend(self, values: Any) -> None:
        if type(values) is list:  # the recorder's flush: packed by the array module, no numpy call
            try:
                self._put(array(self._items.format, values))
                return
            except TypeError:
                pass  # not all numbers: numpy says what was wrong
        values = np.asarray(values, dtype=self._data.dtype)
        self._reserve(self._size + values.size)
        self._data[self._size : self._size + values.size] = values
        self._size += values.size

    def fill(self, value: Any, count: int) -> None:
        """Append ``value`` ``count`` times."""
        self._put(array(self._items.format, [value]) * count)

    def _put(self, packed: array) -> None:
        count = len(packed)
        self._reserve(self._size + count)
        self._items[self._size : self._size + count] = packed
        self._size += count

    def set_last(self, value: Any) -> None:
        self._items[self._size - 1] = value

    def last(self) -> Any:
        """The last value as a Python number (the column must not be empty)."""
        return self._items[self._size - 1]

    @property
    def values(self) -> np.ndarray:
        view = self._data[: self._size]
        view.flags.writeable = False
        return view
