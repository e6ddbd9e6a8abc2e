"""How clicks reach a kernel whose main thread is busy running a training loop.

The only module that touches kernel internals; everything here is feature-detected
and fails soft (an unknown kernel gets the "interrupt" regime, never a crash).

Regimes, best first:

``"subshell"``
    ipykernel >= 7, whatever the frontend. Every ipykernel 7 kernel has a shell-channel
    thread that reads the shell socket and hands each message to the main shell or to a
    subshell (JEP 91). losswidget creates one subshell of its own per kernel and has the
    shell-channel thread send our control widgets' messages there, so their handlers run
    on that subshell's thread while the main shell runs the cell. It does not matter
    whether the frontend uses subshells (JupyterLab >= 4.4) or sends everything on the
    main shell (VS Code, Voilà, Notebook 7, JupyterLab with ``commsOverSubshells`` off).
    ipykernel >= 7.4 asks each comm where its messages go (``_reply_subshell_for``);
    7.0-7.3 have no such hook, so there we put a router in front of the shell-channel
    thread's handler that redirects our comms' messages and passes on everything else.
``"pump"``
    ipykernel 6 (Google Colab): between steps we move pending shell messages off the
    socket, handle those addressed to our control widgets and put every other message
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
from typing import Any, ClassVar

log = logging.getLogger(__name__)

REGIME_TEXT = {
    "subshell": "Stop and sliders are live while the cell runs (kernel subshells).",
    "pump": "Stop and sliders are live while the cell runs (handled between steps).",
    "thread": "Training runs in the background: Stop and sliders are live.",
    "interrupt": "This kernel receives clicks only after the cell ends: interrupt the kernel "
    "(■ in JupyterLab and Notebook, Interrupt in VS Code) to stop gracefully now.",
    "terminal": "Press Ctrl-C to stop gracefully (twice to abort at once).",
}
SUBSHELL_TIMEOUT = 5.0  # seconds to wait for the shell-channel thread to create our subshell


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


class OwnSubshell:
    """The kernel subshell losswidget creates and owns: one per kernel, reused by every monitor.

    Our control comms' messages are routed to it by the shell-channel thread, so the
    widgets answer while the main shell is busy, whichever subshell (if any) the
    frontend addressed. If it disappears (deleted by a client), ``alive()`` says so and
    messages go back to where the frontend sent them.
    """

    _by_kernel: ClassVar[dict[int, OwnSubshell]] = {}
    _create_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, kernel: Any, manager: Any, subshell_id: str) -> None:
        self.kernel, self.manager, self.subshell_id = kernel, manager, subshell_id
        self._comm_ids: frozenset[str] = frozenset()
        self._router_installed = False

    @classmethod
    def of(cls, kernel: Any) -> OwnSubshell:
        """This kernel's subshell, created on first use; raises RuntimeError saying why it cannot be."""
        with cls._create_lock:
            existing = cls._by_kernel.get(id(kernel))
            if existing is not None and existing.kernel is kernel and existing.alive():
                return existing
            manager = _subshell_manager(kernel)
            subshell = cls(kernel, manager, _create_subshell(kernel, manager))
            if existing is not None and existing.kernel is kernel:
                subshell._comm_ids = existing._comm_ids
                subshell._router_installed = existing._router_installed
            cls._by_kernel[id(kernel)] = subshell
            return subshell

    def alive(self) -> bool:
        try:
            return self.subshell_id in self.manager.list_subshell()
        except Exception:
            return False

    def route(self, comm: Any) -> bool:
        """Send this comm's incoming messages to our subshell. True when this call put the router
        in front of the kernel's shell channel (ipykernel 7.0-7.3, once per kernel)."""
        self._comm_ids = self._comm_ids | {comm.comm_id}
        if callable(getattr(comm, "_reply_subshell_for", None)):  # ipykernel >= 7.4
            kernel = self.kernel

            def reply_subshell_for(data: Any, default: Any) -> Any:
                current = OwnSubshell._by_kernel.get(id(kernel))  # a re-created subshell takes over
                return current.subshell_id if current is not None and current.alive() else default

            comm._reply_subshell_for = reply_subshell_for
        elif not self._router_installed:  # ipykernel 7.0-7.3
            _run_on_shell_channel(self.kernel, self._install_router)
            self._router_installed = True
            return True
        return False

    def _install_router(self) -> None:
        kernel = self.kernel
        forward = kernel.shell_channel_thread_main

        async def route_ours_first(message: Any) -> None:
            current = OwnSubshell._by_kernel.get(id(kernel))  # a re-created subshell takes over
            readdressed = current._readdressed(message) if current is not None else None
            if readdressed is None:
                await forward(message)
            else:
                current.manager.get_shell_channel_to_subshell_socket(current.subshell_id).send_multipart(readdressed)

        kernel.shell_stream.on_recv(route_ours_first, copy=False)

    def _readdressed(self, message: list[Any]) -> list[Any] | None:
        """This raw shell message addressed to our subshell if it is for one of our comms, else None.

        ipykernel < 7.4 checks that a message's header names the subshell that handles it,
        so the header is rewritten and signed again with the kernel's own key.
        """
        try:
            session = self.kernel.session
            idents, wire = session.feed_identities(message, copy=False)
            header = session.unpack(_part_bytes(wire[1]))
            if header.get("msg_type") not in ("comm_msg", "comm_close"):
                return None
            if session.unpack(_part_bytes(wire[4])).get("comm_id") not in self._comm_ids or not self.alive():
                return None
            header["subshell_id"] = self.subshell_id
            parts = [session.pack(header)] + [_part_bytes(part) for part in wire[2:5]]
            return [*idents, b"<IDS|MSG>", session.sign(parts), *parts, *wire[5:]]
        except Exception:  # not ours to judge: ipykernel reports malformed messages itself
            return None


def wedging_kernel_text() -> str:
    """Why ipykernel 7.0-7.3 is worth upgrading, in words (measured: benchmarks/probe_shell_race.py)."""
    version = getattr(sys.modules.get("ipykernel"), "__version__", "7.0-7.3")
    return (
        f"losswidget: this kernel runs ipykernel {version}, which can stop answering for good when a cell "
        "is sent just as the previous one finishes (Run All, a quick Shift-Enter): the cell stays [*] until "
        "the kernel is restarted, with or without losswidget. Stop and the sliders work here. To avoid the "
        "hang: pip install -U 'ipykernel>=7.4', then restart the kernel."
    )


def _subshell_manager(kernel: Any) -> Any:
    channel_thread = getattr(kernel, "shell_channel_thread", None)
    manager = getattr(channel_thread, "manager", None)
    if not getattr(kernel, "_supports_kernel_subshells", False) or manager is None:
        raise RuntimeError("this kernel has no subshells (ipykernel < 7)")
    return manager


def _run_on_shell_channel(kernel: Any, function: Callable[[], Any]) -> Any:
    """Run ``function`` on the kernel's shell-channel thread and return its result."""
    channel_thread = kernel.shell_channel_thread
    if threading.current_thread() is channel_thread:
        return function()
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            outcome["value"] = function()
        except BaseException as error:
            outcome["error"] = error
        finally:
            done.set()

    channel_thread.io_loop.add_callback(call)
    if not done.wait(SUBSHELL_TIMEOUT):
        raise RuntimeError(f"the kernel's shell-channel thread did not answer within {SUBSHELL_TIMEOUT:g} s")
    if "error" in outcome:
        raise RuntimeError(f"{type(outcome['error']).__name__}: {outcome['error']}")
    return outcome["value"]


def _create_subshell(kernel: Any, manager: Any) -> str:
    # What a create_subshell_request does on the control thread, without the control socket
    # (which belongs to the control thread): the manager creates subshells on this thread.
    if not callable(getattr(manager, "_create_subshell", None)):
        raise RuntimeError("this ipykernel's subshell manager has no _create_subshell")
    subshell_id = _run_on_shell_channel(kernel, manager._create_subshell)
    if not isinstance(subshell_id, str):
        raise RuntimeError(f"subshell creation returned {subshell_id!r}")
    return subshell_id


class ControlChannel:
    """Delivers our control widgets' messages while the kernel's main thread is busy."""

    def __init__(self, kernel: Any = None) -> None:
        self.kernel = kernel if kernel is not None else current_kernel()
        self._comm_ids: set[str] = set()
        self._subshell: OwnSubshell | None = None
        self.fallback_reason: str | None = None  # why the subshell path is not live, in words
        self.kernel_problem: str | None = None  # a warning's text about this kernel, said once per kernel
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
        except Exception as error:  # no subshells, or an ipykernel we do not know
            self._subshell = None
            self.fallback_reason = f"no kernel subshell for the controls: {error}"
            log.debug("losswidget: subshell routing unavailable", exc_info=True)

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
            header = session.unpack(_part_bytes(wire[1]))
            if header.get("msg_type") != "comm_msg":
                return False
            if session.unpack(_part_bytes(wire[4])).get("comm_id") not in self._comm_ids:
                return False
            message = session.deserialize(wire, content=True, copy=False)
        except Exception:
            log.debug("losswidget: could not inspect a queued message", exc_info=True)
            return False
        self.kernel.comm_manager.comm_msg(self.kernel.shell_stream, idents, message)
        return True


def _part_bytes(part: Any) -> bytes:
    """One part of a zmq multipart message (a zmq.Frame or bytes) as bytes."""
    return part.bytes if hasattr(part, "bytes") else bytes(part)


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

    def _handle(self, signum: int, stack_frame: Any) -> None:
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
