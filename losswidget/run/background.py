"""Training in a background thread: the cell returns at once and the main shell stays free."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from losswidget.core.validate import check_float


class Background:
    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self.result: Any = None
        self.error: BaseException | None = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, function: Callable[..., Any], args: tuple, kwargs: dict, on_error: Callable) -> None:
        if self.alive:
            raise RuntimeError("a background run is already going; wait() for it or stop() it first")
        self.result = self.error = None

        def run() -> None:
            try:
                self.result = function(*args, **kwargs)
            except BaseException as error:  # re-raised by wait()
                self.error = error
                on_error(error)

        self._thread = threading.Thread(target=run, name="losswidget-training", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None) -> Any:
        if self._thread is None:
            raise RuntimeError("nothing to wait for: start(function) runs training in the background")
        if timeout is not None:
            timeout = check_float("timeout", timeout, minimum=0.0)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the background run is still going after {timeout} s")
        if self.error is not None:
            raise self.error
        return self.result
