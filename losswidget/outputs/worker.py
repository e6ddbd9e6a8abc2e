"""One output's own thread: a tracker is someone else's network code, and it never runs on training's.

The recording thread (the training loop's) only puts a record on the output's queue and goes on:
a tracker whose ``log`` takes a second costs training nothing; one that never returns is found at
the next record (its call has run longer than :data:`HUNG_AFTER_SECONDS`) and turned off; one that
cannot keep up (:data:`QUEUE_RECORDS` records waiting) is turned off. The end of a loop, a
``new_run()`` and the interpreter's exit wait for what is queued, at most
:data:`END_WAIT_SECONDS`, so that ``run.finish()`` after the loop finds every record sent.

A failure raised on this thread is kept (:attr:`Worker.error`) and said on the recording thread, at
its next record, where a ``losswidget:`` warning reaches the user's cell (a warning raised on a
background thread lands in whichever cell runs then, or nowhere).

A method that returns an awaitable (``async def log``: an asyncio tracker client) is run to its end
here, on an event loop of this thread's own, kept for the thread's life (an async client made in
one call is still bound to its loop in the next) and closed when the thread ends: at the
interpreter's exit at the latest, once the output has taken everything. Awaiting it on the
notebook's own loop is not possible: that loop is blocked while the training cell runs.
"""

from __future__ import annotations

import asyncio
import atexit
import inspect
import os
import threading
import time
import weakref
from collections import deque
from typing import Any

HUNG_AFTER_SECONDS = 30.0  # one call running longer than this: the output is hung
END_WAIT_SECONDS = 5.0  # the most a loop's end, new_run() or the interpreter's exit waits for an output
QUEUE_RECORDS = 1000  # records (an epoch's values, a flush's step losses) waiting: the output fell behind

_local = threading.local()
_live: weakref.WeakSet[Worker] = weakref.WeakSet()


def error_text(error: BaseException) -> str:
    """``Type: message`` for any exception, even one whose ``str()`` raises."""
    try:
        message = str(error)
    except Exception:  # a user's exception class: its message is lost, never the run
        message = "(its message could not be read)"
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def run_awaitable(result: Any) -> None:
    """Await ``result`` to its end when it is awaitable, on this thread's own event loop."""
    if not inspect.isawaitable(result):
        return
    loop = getattr(_local, "loop", None)
    if loop is None:
        loop = _local.loop = asyncio.new_event_loop()
    loop.run_until_complete(_awaited(result))


async def _awaited(result: Any) -> None:
    await result


class OutputStalled(Exception):
    """An output that is hung, fell behind, or had not finished when the loop ended."""


class Worker:
    """Calls ``output``'s methods in order, on a daemon thread of its own."""

    def __init__(self, output: Any) -> None:
        self.output = output
        self.error: BaseException | None = None  # the output's own failure, raised on this thread
        self._items: deque[tuple[str, tuple[Any, ...]]] = deque()
        self._changed = threading.Condition()
        self._busy_since: float | None = None  # when the call under way began (monotonic)
        self._busy_with = ""
        self._ending = False  # dropped (close, then end) or retired (the queue out, then end)
        self._close_at_end = False
        self._thread = threading.Thread(target=self._work, name=f"losswidget {output.name}", daemon=True)
        self._thread.start()
        self._pid = os.getpid()  # a forked copy has no such thread: it never waits for it
        _live.add(self)

    def submit(self, method: str, *args: Any) -> OutputStalled | None:
        """Queue one call; what stalls the output, if it does (then nothing was queued)."""
        with self._changed:
            stalled = self._stalled()
            if stalled is None:
                self._items.append((method, args))
                self._changed.notify_all()
            return stalled

    def _stalled(self) -> OutputStalled | None:
        if self._busy_since is not None and time.monotonic() - self._busy_since > HUNG_AFTER_SECONDS:
            return OutputStalled(
                f"its {self._busy_with}() call has not returned after {HUNG_AFTER_SECONDS:g} s, so training "
                "no longer sends it anything"
            )
        if len(self._items) >= QUEUE_RECORDS:
            return OutputStalled(f"it fell {len(self._items)} records behind training")
        return None

    def wait(self, seconds: float) -> bool:
        """Wait until every queued call has returned (or the output failed), at most ``seconds``."""
        with self._changed:
            return self._changed.wait_for(self._idle, timeout=max(seconds, 0.0))

    def behind(self, seconds: float) -> OutputStalled:
        """What stalls an output that :meth:`wait` waited ``seconds`` for in vain."""
        with self._changed:
            under_way = f", its {self._busy_with}() call under way" if self._busy_since is not None else ""
            return OutputStalled(
                f"it had not taken its last records {seconds:g} s after they were sent ({len(self._items)} "
                f"still waiting{under_way})"
            )

    def _idle(self) -> bool:
        return self.error is not None or (not self._items and self._busy_since is None)

    def drop(self) -> None:
        """No more calls but ``close()``, on this thread once the call under way returns (if it ever does)."""
        self._end(close=True)

    def join(self, seconds: float) -> None:
        """Wait for the thread to end (after :meth:`drop`: its ``close()`` returned), at most ``seconds``."""
        self._thread.join(seconds)

    def retire(self) -> None:
        """Its monitor is gone: the queued calls go out, then the thread ends (``close()`` is not called)."""
        self._end(close=False)

    def _end(self, close: bool) -> None:
        with self._changed:
            if close:
                self._items.clear()
            self._ending, self._close_at_end = True, close
            self._changed.notify_all()
        if close:  # dropped: nothing more to wait for; a retired one is waited for at exit until its thread ends
            _live.discard(self)

    def _work(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._ending or (self._items and self.error is None))
                if not self._items or self.error is not None:  # ending, with nothing (more) to call
                    break
                method, args = self._items.popleft()
                self._busy_since, self._busy_with = time.monotonic(), method
            try:
                run_awaitable(getattr(self.output, method)(*args))
            except BaseException as error:  # the output's failure, whatever it is, is said where training runs
                with self._changed:
                    self.error = error
                    self._items.clear()
            finally:
                with self._changed:
                    self._busy_since = None
                    self._changed.notify_all()
        if self._close_at_end:
            try:
                run_awaitable(self.output.close())
            except BaseException:  # it failed or stalled already: that was said
                pass
        loop = getattr(_local, "loop", None)
        if loop is not None:
            loop.close()
        _live.discard(self)


@atexit.register
def _wait_at_exit() -> None:
    """The interpreter is ending (a script's last line): what is queued still goes out, within the bound."""
    deadline = time.monotonic() + END_WAIT_SECONDS
    mine = [worker for worker in list(_live) if worker._pid == os.getpid()]
    for worker in mine:
        worker.wait(deadline - time.monotonic())
    for worker in mine:  # one that has taken everything ends now, closing its own event loop (async outputs)
        if worker.wait(0.0):
            worker.retire()
            worker.join(max(deadline - time.monotonic(), 0.0))
