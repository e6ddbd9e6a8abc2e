"""Sending a bqplot mark's new arrays as one comm message, built directly instead of through traitlets.

Why it bypasses traitlets: in a real kernel, traitlets' validation and change notification and
ipywidgets' walk over the state were most of what a frame cost the training loop, in its own time
and in the caches it leaves cold (``benchmarks/RESULTS.md``: ~0.4-0.6 ms of a ~2 ms frame). The
message is the one ``with mark.hold_sync(): mark.x = ...`` sends (bqplot's array serialisation,
the buffers split out as ipywidgets does), and the kernel's copy of the model takes the arrays as
an ordinary set would, so a page that connects later gets the current state.
``tests/test_widget.py`` checks this against the ordinary path, message for message.

The two private names it uses, ``_trait_values`` and ``_send``, are ipywidgets' own (stable
since ipywidgets 7); a widget without them takes the ordinary path.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def can_send_directly(widget: Any, values: dict[str, Any]) -> bool:
    """Every value a float32 array as bqplot's validators would leave it (C-contiguous, and never a
    2-D array with a dimension of 1, which bqplot squeezes), on a widget with ipywidgets' internals."""
    if not (isinstance(getattr(widget, "_trait_values", None), dict) and callable(getattr(widget, "_send", None))):
        return False
    return all(
        type(value) is np.ndarray
        and value.dtype == np.float32
        and value.flags.c_contiguous
        and (value.ndim == 1 or (value.ndim == 2 and 1 not in value.shape))
        for value in values.values()
    )


def send_arrays(mark: Any, arrays: dict[str, np.ndarray]) -> None:
    """Send ``arrays`` (see :func:`can_send_directly`) to ``mark``'s frontend as one update message."""
    state, paths, buffers = {}, [], []
    for name, value in arrays.items():
        state[name] = {"dtype": "float32", "shape": list(value.shape), "type": None}
        paths.append([name, "value"])
        buffers.append(memoryview(value))
        mark._trait_values[name] = value  # what the trait's validation would have stored: the same array
    mark._send({"method": "update", "state": state, "buffer_paths": paths}, buffers=buffers)
