"""How clicks reach a kernel whose main thread is busy running a training loop.

The only module that touches kernel internals; everything here is feature-detected
and fails soft (an unknown kernel gets the "interrupt" regime, never a crash).

Regimes, best first:

``"subshell"``
    ipykernel >= 7 with a frontend that sends comm messages on kernel subshells
    (JupyterLab >= 4.4, setting ``commsOverSubshells``, on by default). ipykernel
    routes a comm's messages to the subshell that last *published* on it: the busy
    main shell, for widgets created by a cell. We route only our own control
    widgets' messages to the subshell the frontend chose, so their handlers run
    on that subshell's thread while the cell runs.
``"pump"``
    ipykernel 6: between steps we move pending shell messages off the socket,
    handle those addressed to our control widgets and put every other message
    back in the queue, in order.
``"thread"``
    the training loop runs in a background thread; the main shell is free.
``"interrupt"``
    clicks arrive only when the cell ends; the kernel interrupt (■) stops gracefully.
``"terminal"``
    no Jupyter kernel: Ctrl-C stops gracefully.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

REGIME_TEXT = {
    "subshell": "Stop and sliders are live while the cell runs (kernel subshells).",
    "pump": "Stop and sliders are live while the cell runs (handled between steps).",
    "thread": "Training runs in the background: Stop and sliders are live.",
    "interrupt": "This kernel receives clicks only after the cell ends: press ■ (interrupt the kernel) "
    "to stop gracefully now.",
    "terminal": "Press Ctrl-C to stop gracefully (twice to abort at once).",
}


def current_kernel() -> Any:
    """The running ipykernel, or None outside a Jupyter kernel. Never imports IPython."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    shell = ipython.get_ipython()
    return getattr(shell, "kernel", None)


def _route_to_frontend_subshell(comm: Any) -> bool:
    """Make ipykernel deliver this comm's messages where the frontend sent them."""
    if not callable(getattr(comm, "_reply_subshell_for", None)):
        return False

    def reply_subshell_for(data: Any, default: Any) -> Any:
        return default

    comm._reply_subshell_for = reply_subshell_for
    return True


def _subshells_in_use(kernel: Any) -> bool:
    try:
        if not getattr(kernel, "_supports_kernel_subshells", False):
            return False
        return bool(kernel.shell_channel_thread.manager.list_subshell())
    except Exception:  # an ipykernel we do not know: no subshells, then
        return False


class ControlChannel:
    """Delivers our control widgets' messages while the kernel's main thread is busy."""

    def __init__(self, kernel: Any = None) -> None:
        self.kernel = kernel if kernel is not None else current_kernel()
        self._comm_ids: set[str] = set()
        self._routed = False
        self._pumpable = self.kernel is not None and all(
            hasattr(self.kernel, name) for name in ("msg_queue", "shell_stream", "session", "comm_manager")
        )

    def attach(self, widgets: Iterable[Any]) -> None:
        for widget in widgets:
            comm = getattr(widget, "comm", None)
            if comm is None:
                continue
            self._comm_ids.add(comm.comm_id)
            self._routed = _route_to_frontend_subshell(comm) or self._routed

    def regime(self) -> str:
        if self.kernel is None:
            return "terminal"
        if threading.current_thread() is not threading.main_thread():
            return "thread"
        if self._routed and _subshells_in_use(self.kernel):
            return "subshell"
        if self._pumpable:
            return "pump"
        return "interrupt"

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
            idents, frames = session.feed_identities(list(args[0]), copy=False)
            # Peek without verifying: verifying records the signature, and a message we put
            # back would then be rejected as a replay when the kernel handles it.
            header = session.unpack(_frame_bytes(frames[1]))
            if header.get("msg_type") != "comm_msg":
                return False
            if session.unpack(_frame_bytes(frames[4])).get("comm_id") not in self._comm_ids:
                return False
            message = session.deserialize(frames, content=True, copy=False)
        except Exception:
            log.debug("losswidget: could not inspect a queued message", exc_info=True)
            return False
        self.kernel.comm_manager.comm_msg(self.kernel.shell_stream, idents, message)
        return True


def _frame_bytes(frame: Any) -> bytes:
    return frame.bytes if hasattr(frame, "bytes") else bytes(frame)


class InterruptAsStop:
    """While active on the main thread, the first SIGINT calls ``on_interrupt``
    instead of raising; a second one raises KeyboardInterrupt as usual."""

    def __init__(self, on_interrupt: Callable[[], None]) -> None:
        self._on_interrupt = on_interrupt
        self._previous: Any = None
        self._active = False
        self.interrupted = False

    def __enter__(self) -> InterruptAsStop:
        if threading.current_thread() is threading.main_thread():
            try:
                self._previous = signal.getsignal(signal.SIGINT)
                signal.signal(signal.SIGINT, self._handle)
                self._active = True
            except (ValueError, OSError):  # embedded interpreters may refuse
                self._active = False
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.interrupted:
            raise KeyboardInterrupt
        self.interrupted = True
        self._on_interrupt()

    def __exit__(self, *exc: Any) -> None:
        if self._active:
            signal.signal(signal.SIGINT, self._previous)
            self._active = False


class SignalsDeferred:
    """Defer SIGINT while a frame is drawn, so an interrupt never leaves a half-drawn chart."""

    def __enter__(self) -> None:
        self._blocked = threading.current_thread() is threading.main_thread() and hasattr(signal, "pthread_sigmask")
        if self._blocked:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})

    def __exit__(self, *exc: Any) -> None:
        if self._blocked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
