"""An honest kernel status while a monitored cell runs (ipykernel >= 7, kernel subshells).

ipykernel wraps every message a subshell handles in a busy/idle pair of its own, and JupyterLab's
status bar follows every status message: while a training cell ran and a slider moved a few times
a second, the bar read "Busy" in only 22 of 69 samples (``tests/e2e/test_live_widget.py``). The idle
itself must stay: ipywidgets counts it to know that its message was handled, and throttles the next
one until it comes. So right after such an idle we publish one more ``busy``, with the running
cell's request as its parent: the bar says what the kernel is doing, Busy, until the cell's own
idle at its end.

Only while a monitored loop runs on the main thread, and (where the kernel has one) while its main
shell holds its lock: once the cell has ended nothing is added, so the bar cannot stay Busy.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar


class BusyWhileLooping:
    """One per kernel: the wrapper around the kernel's status publishing, and the loops running."""

    _by_kernel: ClassVar[dict[int, BusyWhileLooping]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel
        self.loops = 0
        self.cell: Any = None  # the running cell's request: the extra busy's parent
        publish = kernel._publish_status

        def publish_status(status: str, channel: str, parent: Any = None) -> None:
            publish(status, channel, parent)
            if status == "idle" and channel == "shell" and self._cell_running():
                publish("busy", "shell", self.cell)

        kernel._publish_status = publish_status

    @classmethod
    def of(cls, kernel: Any) -> BusyWhileLooping | None:
        """This kernel's, installed on first use; None for a kernel without subshells or the hook."""
        if not getattr(kernel, "_supports_kernel_subshells", False) or not callable(
            getattr(kernel, "_publish_status", None)
        ):
            return None
        with cls._lock:
            found = cls._by_kernel.get(id(kernel))
            if found is None or found.kernel is not kernel:
                found = cls._by_kernel[id(kernel)] = cls(kernel)
            return found

    def _cell_running(self) -> bool:
        if not self.loops or threading.current_thread() is threading.main_thread():
            return False  # the main shell's own idle is the cell's end: never answered
        lock = getattr(self.kernel, "_main_asyncio_lock", None)
        return lock is None or not callable(getattr(lock, "locked", None)) or lock.locked()

    def loop_started(self) -> None:
        """A monitored loop starts on the main thread (the running cell's request is its parent now)."""
        if threading.current_thread() is threading.main_thread():
            try:
                self.cell = self.kernel.get_parent("shell")
            except Exception:
                self.cell = None
            self.loops += 1

    def loop_ended(self) -> None:
        if threading.current_thread() is threading.main_thread() and self.loops:
            self.loops -= 1
