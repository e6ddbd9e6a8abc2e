"""The kernel subshell losswidget creates and owns (ipykernel >= 7), and the router that sends our
controls' messages to it on ipykernel 7.0-7.3 (which have no ``_reply_subshell_for`` hook)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from losswidget.kernel.probe import part_bytes

SUBSHELL_TIMEOUT = 5.0  # seconds to wait for the shell-channel thread to create our subshell


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
            header = session.unpack(part_bytes(wire[1]))
            if header.get("msg_type") not in ("comm_msg", "comm_close"):
                return None
            if session.unpack(part_bytes(wire[4])).get("comm_id") not in self._comm_ids or not self.alive():
                return None
            header["subshell_id"] = self.subshell_id
            parts = [session.pack(header)] + [part_bytes(part) for part in wire[2:5]]
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
