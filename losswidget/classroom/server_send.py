"""A student's side of a class server: the run sent, as it trains, to the teacher's trackio server.

>>> send = lw.ClassServer("http://10.0.0.5:7860/?project=lab3&write_token=...",
...                       student="ada", settings={"weight_decay": 1e-3})          # doctest: +SKIP
>>> monitor = lw.LiveLossMonitor(outputs=[send])                                   # doctest: +SKIP

One trackio run per monitor run (its ``run_id`` ours, so two students of one name are two runs):
its config says the student, the settings and early stopping's rule (the teacher's view names the
best epoch and the diagnosis by the same rule as the student's chart); each epoch's values are one
record at its epoch; each loop's end one more (the outcome and the stop's code). Why trackio's
server, and what it cannot do: :mod:`losswidget.classroom.server_link`.

Training only queues (the outputs' thread, :mod:`losswidget.outputs.worker`, calls this output's
methods, which only add a record to a list). A sending thread of this output's own sends everything
waiting in one request: while a request is under way the next records gather, so a slow server gets
fewer, larger requests instead of a queue that grows (measured: one request per record fell ~9 s
behind with 30 students on a loaded 2-core machine, ``benchmarks/RESULTS.md``). A server that is
down, restarting or unreachable costs that thread one bounded try
(:data:`~losswidget.classroom.server_link.TIMEOUT`); the records wait and are tried again after 1, 2,
4, 8 s, then every 8 s: every record carries an id, so one sent twice (its answer lost) is kept
once. While the server is gone, :attr:`notice` says so in one sentence, which the status shows and
a ``losswidget:`` warning says once. A refusal (a wrong token, a class the teacher has not opened,
not a trackio server) turns this output off with its words, at its next record; training, the
chart and the other outputs go on.
"""

from __future__ import annotations

import atexit
import threading
import time
import uuid
import weakref
from collections.abc import Mapping
from typing import Any

from losswidget.classroom.send import NAME_LENGTH, _check_settings, _login
from losswidget.classroom.server_link import OPENED, TIMEOUT, ServerGone, ServerRefused, call, parse_link
from losswidget.core.history_jsonl import encode_number
from losswidget.outputs.base import Output, RunInfo
from losswidget.outputs.worker import END_WAIT_SECONDS, error_text

__all__ = ["ClassServer", "open_class"]

BATCH = 500  # records in one request
RETRY = (1.0, 2.0, 4.0, 8.0)  # seconds between tries while the server is gone (then every 8 s)
MAX_WAITING = 100_000  # records kept for a server that is gone; past that this output stops
IDLE_SECONDS = 30.0  # the sending thread ends after this long with nothing to send
END = "losswidget_end"  # a loop's end, as a record's keys (its outcome and its stop's code)
STOP = "losswidget_stop"

_live: weakref.WeakSet[ClassServer] = weakref.WeakSet()


class ClassServer(Output):
    """Send a run to a class on a trackio server, which a teacher's ``lw.classroom(link)`` reads.

    ``url``: the link the teacher hands out (``http://host:port/?project=lab3&write_token=...``), or
    the address with ``project=`` and ``token=``; ``student``: the name shown to the class (default:
    the run's name, else the login name); ``settings``: the knob values the class compares. Every
    argument is checked here; nothing is sent before the run opens.
    """

    name = "class server"

    def __init__(
        self,
        url: str,
        student: str | None = None,
        settings: Mapping | None = None,
        *,
        project: str | None = None,
        token: str | None = None,
    ) -> None:
        self.link = parse_link(url, project, token)
        if self.link.token is None:
            raise ValueError(
                "the write token is missing: a class server takes runs only with it; use the link your teacher "
                f"gave (it ends in &write_token=...) or pass token=: {self.link.shown!r}"
            )
        if student is not None and (not isinstance(student, str) or not student.strip()):
            raise TypeError(f"'student' must be a non-empty string or None: {student!r:.80}")
        self.student = student
        self.settings = _check_settings(settings)
        self.notice: str | None = None  # while the server is gone: the sentence the status shows
        self.timeout = TIMEOUT  # seconds one request may take before the server counts as gone
        self.run_id: str | None = None
        self._changed = threading.Condition()  # held only to change the list and the state, never over a request
        self._waiting: list[dict[str, Any]] = []  # records not yet accepted, in order
        self._configs: dict[str, dict[str, Any]] = {}  # each run's config, by run id
        self._run_name = ""
        self._checked = False  # the server said this token writes and the class is open
        self._closed = False
        self._refused: ServerRefused | None = None
        self._tries = 0
        self._retry_at = 0.0
        self._last_epoch = 0
        self._count = 0
        self._sender: threading.Thread | None = None
        _live.add(self)

    # -- the records (on the outputs' thread: each only adds to the list) ------------------------

    def open(self, run: RunInfo) -> None:
        student = self.student or run.name or _login() or "student"
        if len(student) > NAME_LENGTH:
            student = student[: NAME_LENGTH - 1] + "…"
        with self._changed:
            self.run_id, self._run_name, self._count, self._last_epoch = uuid.uuid4().hex, student, 0, 0
            config = {"losswidget": 1, "student": student, "settings": self.settings, "rule": dict(run.rule)}
            self._configs[self.run_id] = config
            self._closed = False
            self._wake()

    def epoch(self, epoch: int, values: Mapping[str, float], steps: int) -> None:
        self._last_epoch = epoch
        self._add(epoch, {name: encode_number(value) for name, value in values.items()})

    def end(self, outcome: str, stop_code: str | None) -> None:
        self._add(self._last_epoch, {END: str(outcome)[:500], STOP: stop_code})

    def close(self) -> None:
        """The run is over: what waits still goes out (the sending thread tries while this process lives)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def failure(self, error: BaseException) -> str:
        if isinstance(error, ServerRefused):
            return (
                f"The class server {self.link.shown!r} refused this run: {error}. This run goes on without it; "
                "what it sent before stays in the class."
            )
        return (
            f"The class server {self.link.shown!r} could not take this run ({type(error).__name__}: {error}); "
            "this run goes on without it, and the teacher's view keeps what it sent."
        )

    def _add(self, epoch: int, metrics: dict[str, Any]) -> None:
        with self._changed:
            if self._refused is not None:  # said by the sending thread: raised here, where the run hears it
                raise self._refused
            if len(self._waiting) >= MAX_WAITING:
                raise ServerRefused(f"it has been unreachable for {MAX_WAITING} records ({self.notice})")
            self._count += 1
            record = {"project": self.link.project, "run": self._run_name, "run_id": self.run_id}
            record.update(metrics=metrics, step=int(epoch), log_id=f"{self.run_id}-{self._count}")
            self._waiting.append(record)
            self._wake()

    # -- the sending thread ----------------------------------------------------------------------

    def _wake(self) -> None:
        """Tell the sending thread (started again if it ended, idle): called holding the lock."""
        if self._sender is None:  # none, or the last one said (holding the lock) that it ends
            self._sender = threading.Thread(target=self._send_loop, name="losswidget class server", daemon=True)
            self._sender.start()
        self._changed.notify_all()

    def _next_batch(self) -> tuple[list[dict[str, Any]], bool] | None:
        """Wait until something is due: the records to send now (the run's config on the first of each
        run) and whether the server was checked; None when there is nothing more to do."""
        with self._changed:
            while True:
                if self._refused is not None:
                    self._sender = None
                    return None
                due = self._retry_at - time.monotonic()
                if (self._waiting or not self._checked) and due <= 0:
                    break
                if not self._waiting and (self._closed or self._checked):
                    if self._closed or not self._changed.wait(IDLE_SECONDS):
                        self._sender = None  # said while holding the lock: the next record starts another
                        return None
                    continue
                self._changed.wait(max(due, 0.01))
            batch, configured = [], set()
            for record in self._waiting[:BATCH]:
                record = dict(record)
                if record["run_id"] not in configured:
                    configured.add(record["run_id"])
                    record["config"] = self._configs.get(record["run_id"])
                batch.append(record)
            return batch, self._checked

    def _send_loop(self) -> None:
        while (work := self._next_batch()) is not None:
            batch, checked = work
            try:
                if not checked:
                    self._check()
                if batch:
                    call(self.link, "bulk_log", {"logs": batch, "hf_token": None}, write=True, timeout=self.timeout)
            except ServerGone as error:
                self._gone(error)
                continue
            except Exception as error:  # refused, or a fault of ours: said at the next record, never lost silently
                refused = error if isinstance(error, ServerRefused) else ServerRefused(error_text(error))
                with self._changed:
                    self._refused, self._sender = refused, None
                    self._waiting.clear()
                    self._changed.notify_all()
                return
            with self._changed:
                self._checked = True
                del self._waiting[: len(batch)]  # only this thread removes: the first records are the batch
                self._tries, self._retry_at, self.notice = 0, 0.0, None
                self._changed.notify_all()

    def _check(self) -> None:
        status = call(self.link, "get_run_mutation_status", {}, write=True, timeout=self.timeout)
        if not isinstance(status, dict) or not status.get("allowed"):
            raise ServerRefused("its write token is not the one in this link (ask your teacher for the class's link)")
        projects = call(self.link, "get_all_projects", {}, timeout=self.timeout)
        if not isinstance(projects, list) or self.link.project not in projects:
            others = ", ".join(str(name) for name in (projects or [])[:10] if name != OPENED) or "none"
            raise ServerRefused(
                f"it has no class {self.link.project!r} open (its classes: {others}); check the link your teacher gave"
            )

    def _gone(self, error: ServerGone) -> None:
        with self._changed:
            self._retry_at = time.monotonic() + RETRY[min(self._tries, len(RETRY) - 1)]
            self._tries += 1
            if self.notice is None:
                self.notice = (
                    f"The class server {self.link.shown!r} cannot be reached ({error}); this run's epochs wait "
                    "here and go out when it is back. Training goes on."
                )

    def wait(self, seconds: float = END_WAIT_SECONDS) -> bool:
        """Wait until everything sent so far is on the server, at most ``seconds``; True if it is."""
        with self._changed:
            done = self._changed.wait_for(
                lambda: self._refused is not None or (self._checked and not self._waiting), timeout=seconds
            )
            return done and self._refused is None


def open_class(url: str, *, project: str | None = None, token: str | None = None) -> str:
    """Open a class on the server (the teacher's, with the write token): students' runs are refused until
    it is. Idempotent. Returns the link to hand out without the token (add ``&write_token=...``)."""
    link = parse_link(url, project, token)
    if link.token is None:
        raise ValueError(
            f"opening a class needs the server's write token: pass token= or put it in the link: {link.shown!r}"
        )
    status = call(link, "get_run_mutation_status", {}, write=True)
    if not isinstance(status, dict) or not status.get("allowed"):
        raise ServerRefused(f"the server at {link.base!r} refused the write token given: it is not the server's")
    record = {"project": link.project, "run": OPENED, "run_id": OPENED, "metrics": {"opened": time.time()}}
    record.update(step=0, log_id=f"{OPENED}-{link.project}", config={"losswidget_class": 1})
    call(link, "bulk_log", {"logs": [record], "hf_token": None}, write=True)
    return link.shown


@atexit.register
def _wait_at_exit() -> None:
    """The interpreter is ending: what waits still goes out, within the outputs' bound."""
    deadline = time.monotonic() + END_WAIT_SECONDS
    for sender in list(_live):
        if sender.run_id is not None:
            sender.wait(max(deadline - time.monotonic(), 0.0))
