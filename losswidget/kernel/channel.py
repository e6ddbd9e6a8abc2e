"""How our control widgets' messages reach a busy kernel: the regime in use, and the pump for
ipykernel 6 (Colab), which moves our comms' pending messages off the shell queue between steps."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from losswidget.kernel.probe import current_kernel, part_bytes
from losswidget.kernel.status import BusyWhileLooping
from losswidget.kernel.subshell import OwnSubshell, wedging_kernel_text

log = logging.getLogger("losswidget.kernel")

REGIME_TEXT = {
    "subshell": "Stop and sliders are live while the cell runs (kernel subshells).",
    "pump": "Stop and sliders are live while the cell runs (handled between steps).",
    "thread": "Training runs in the background: Stop and sliders are live.",
    "interrupt": "This kernel receives clicks only after the cell ends: interrupt the kernel "
    "(■ in JupyterLab and Notebook, Interrupt in VS Code) to stop gracefully now.",
    "terminal": "Press Ctrl-C to stop gracefully (twice to abort at once).",
}


class ControlChannel:
    """Delivers our control widgets' messages while the kernel's main thread is busy."""

    def __init__(self, kernel: Any = None) -> None:
        self.kernel = kernel if kernel is not None else current_kernel()
        self._comm_ids: set[str] = set()
        self._subshell: OwnSubshell | None = None
        self.fallback_reason: str | None = None  # why the subshell path is not live, in words
        self.kernel_problem: str | None = None  # a warning's text about this kernel, said once per kernel
        self._status: BusyWhileLooping | None = None
        # ipykernel 6's queue; ipykernel 7.0-7.3 still have a msg_queue, but no longer read it.
        self._pumpable = (
            self.kernel is not None
            and not getattr(self.kernel, "_supports_kernel_subshells", False)
            and all(hasattr(self.kernel, name) for name in ("msg_queue", "shell_stream", "session", "comm_manager"))
        )

    def attach(self, widgets: Iterable[Any]) -> None:
        comms = [widget.comm for widget in widgets if getattr(widget, "comm", None) is not None]
        self._comm_ids.update(comm.comm_id for comm in comms)
        if self.kernel is None or self._pumpable or not comms:
            return
        try:
            self._subshell = OwnSubshell.of(self.kernel)
            router_installed_now = [self._subshell.route(comm) for comm in comms]  # every comm is routed
            if any(router_installed_now):
                self.kernel_problem = wedging_kernel_text()
            self.fallback_reason = None
            self._status = BusyWhileLooping.of(self.kernel)
        except Exception as error:  # no subshells, or an ipykernel we do not know
            self._subshell = None
            self.fallback_reason = f"no kernel subshell for the controls: {error}"
            log.debug("losswidget: subshell routing unavailable", exc_info=True)

    def loop_started(self) -> None:
        """A monitored loop starts on this thread: the status bar is to say Busy until it ends."""
        if self._status is not None:
            self._status.loop_started()

    def loop_ended(self) -> None:
        if self._status is not None:
            self._status.loop_ended()

    def regime(self) -> str:
        if self.kernel is None:
            return "terminal"
        if threading.current_thread() is not threading.main_thread():
            return "thread"
        if self._subshell is not None and self._subshell.alive():
            return "subshell"
        if self._pumpable:
            return "pump"
        return "interrupt"

    def describe(self, regime: str) -> str:
        """The status line's sentence for ``regime``, with the reason when a better path failed."""
        text = REGIME_TEXT[regime]
        if regime == "interrupt":
            if self._subshell is not None:
                return "The controls' kernel subshell is gone. " + text
            if self.fallback_reason:
                return f"{text} ({self.fallback_reason})"
        return text

    def pump(self) -> int:
        """Handle pending messages for our widgets (ipykernel 6); returns how many."""
        if not (self._pumpable and self._comm_ids) or threading.current_thread() is not threading.main_thread():
            return 0
        kernel = self.kernel
        try:
            kernel.shell_stream.flush()
        except Exception:
            log.debug("losswidget: could not flush the shell stream", exc_info=True)
            return 0
        held, handled = [], 0
        while True:
            try:
                item = kernel.msg_queue.get_nowait()
            except Exception:  # asyncio.QueueEmpty or queue.Empty
                break
            if self._handle_if_ours(item):
                handled += 1
            else:
                held.append(item)
        for item in held:  # the queue was drained: putting back keeps the order
            kernel.msg_queue.put_nowait(item)
        return handled

    def _handle_if_ours(self, item: Any) -> bool:
        session = self.kernel.session
        try:
            _, dispatch, args = item
            if getattr(dispatch, "__name__", "") != "dispatch_shell" or not args:
                return False
            idents, wire = session.feed_identities(list(args[0]), copy=False)
            # Peek without verifying: verifying records the signature, and a message we put
            # back would then be rejected as a replay when the kernel handles it.
            header = session.unpack(part_bytes(wire[1]))
            if header.get("msg_type") != "comm_msg":
                return False
            if session.unpack(part_bytes(wire[4])).get("comm_id") not in self._comm_ids:
                return False
            message = session.deserialize(wire, content=True, copy=False)
        except Exception:
            log.debug("losswidget: could not inspect a queued message", exc_info=True)
            return False
        self.kernel.comm_manager.comm_msg(self.kernel.shell_stream, idents, message)
        return True
