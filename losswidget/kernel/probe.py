"""Which kernel this is, and the end of the running cell: small probes, each feature-detected."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def current_kernel() -> Any:
    """The running ipykernel, or None outside a Jupyter kernel. Never imports IPython."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    shell = ipython.get_ipython()
    return getattr(shell, "kernel", None)


def in_colab() -> bool:
    return "google.colab" in sys.modules


def enable_colab_widgets() -> str | None:
    """Turn on Colab's widget manager for third-party widgets (bqplot); a warning text if that failed."""
    if not in_colab():
        return None
    try:
        from google.colab import output  # type: ignore[import-not-found]

        output.enable_custom_widget_manager()
    except Exception as error:  # an older or newer Colab: tell the user what to run
        return (
            f"losswidget: could not enable Colab's custom widget manager ({error}); the chart needs it. "
            "Run `from google.colab import output; output.enable_custom_widget_manager()` in a cell first."
        )
    return None


def after_cell(callback: Callable[[Any], None]) -> bool:
    """Call ``callback(result)`` once, on the main thread, when the running cell ends.

    ``result`` is IPython's ExecutionResult (``error_in_exec`` says how the cell ended).
    Returns False, registering nothing, outside IPython.
    """
    events = getattr(getattr(current_kernel(), "shell", None), "events", None)
    if events is None:
        return False

    def once(result: Any) -> None:
        events.unregister("post_run_cell", once)
        callback(result)

    events.register("post_run_cell", once)
    return True


def part_bytes(part: Any) -> bytes:
    """One part of a zmq multipart message (a zmq.Frame or bytes) as bytes."""
    return part.bytes if hasattr(part, "bytes") else bytes(part)
