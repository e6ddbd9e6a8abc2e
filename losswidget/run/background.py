"""Training in a background thread: the cell returns at once and the main shell stays free."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from losswidget.core.validate import check_float


class Background:
    """One training run on a thread. Whether it has ended is an Event set as the function returns:
    ``Thread.is_alive()`` can stay wrong after a ``join()`` that Ctrl-C interrupted (Python 3.11)."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and not self._done.is_set()

    def start(self, function: Callable[..., Any], args: tuple, kwargs: dict, on_error: Callable) -> None:
        if self.alive:
            raise RuntimeError("a background run is already going; wait() for it or stop() it first")
        self.result = self.error = None
        done = self._done = threading.Event()

        def run() -> None:
            try:
                self.result = function(*args, **kwargs)
            except BaseException as error:  # re-raised by wait()
                self.error = error
                on_error(error)
            finally:
                done.set()

        self._thread = threading.Thread(target=run, name="losswidget-training", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None, on_interrupt: Callable[[], None]) -> Any:
        """Until the run ends (or ``timeout`` seconds). Ctrl-C (or ■) while waiting asks the run to
        stop gracefully (``on_interrupt``) and waits on for it; a second one stops the waiting, and
        a later ``wait()`` still waits for the run truthfully."""
        if self._thread is None:
            raise RuntimeError("nothing to wait for: start(function) runs training in the background")
        if timeout is not None:
            timeout = check_float("timeout", timeout, minimum=0.0)
        try:
            ended = self._done.wait(timeout)
        except KeyboardInterrupt:
            on_interrupt()
            ended = self._done.wait(timeout)  # a second interrupt raises from here
        if not ended:
            raise TimeoutError(f"the background run is still going after {timeout} s")
        if self.error is not None:
            raise self.error
        return self.result
