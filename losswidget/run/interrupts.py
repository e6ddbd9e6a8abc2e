"""Ctrl-C and the kernel interrupt (■) as a graceful stop, and frames drawn whole.

Plain ``signal`` handling on the main thread: nothing here touches kernel internals (a kernel's
interrupt arrives as SIGINT, as Ctrl-C does in a terminal).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any


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
