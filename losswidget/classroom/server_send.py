"""A student's side of a class server: the run sent, as it trains, to the teacher's trackio server.

>>> send = lw.ClassServer("http://10.0.0.5:7860/?project=lab3&write_token=...",
...                       student="ada", settings={"weight_decay": 1e-3})          # doctest: +SKIP
>>> monitor = lw.LiveLossMonitor(outputs=[send])                                   # doctest: +SKIP

One trackio run per monitor run (its ``run_id`` ours, so two students of one name are two runs):
its config says the student, the settings and early stopping's rule (the teacher's view names the
best epoch and the diagnosis by the same rule as the student's chart); each epoch's values are one
record at its epoch; each loop's end one more (the outcome and the stop's code). Why trackio's
server, and what it cannot do: :mod:`losswidget.classroom.server_link`.

Everything goes out on the outputs' own thread (:mod:`losswidget.outputs.worker`): training only
queues. A server that is down, restarting or unreachable costs that thread one bounded try
(:data:`~losswidget.classroom.server_link.TIMEOUT`), then the records wait here and are tried again
after 1, 2, 4, 8 s (by a small thread of this output's own once no record comes to carry them): every
record carries an id, so one sent twice (its answer lost) is kept once. While the server is gone,
:attr:`notice` says so in one sentence, which the status shows and a ``losswidget:`` warning says
once. A refusal (a wrong token, a class the teacher has not opened, not a trackio server) turns this
output off with its words; training, the chart and the other outputs go on.
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
from losswidget.classroom.server_link import OPENED, ServerGone, ServerRefused, call, parse_link
from losswidget.core.history_jsonl import encode_number
from losswidget.outputs.base import Output, RunInfo
from losswidget.outputs.worker import END_WAIT_SECONDS

__all__ = ["ClassServer", "open_class"]

BATCH = 500  # records in one request
RETRY = (1.0, 2.0, 4.0, 8.0)  # seconds between tries while the server is gone (then every 8 s)
MAX_WAITING = 100_000  # records kept for a server that is gone; past that this output stops
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
        self.run_id: str | None = None
        self._lock = threading.RLock()  # one sender at a time: the outputs' thread or the resender
        self._waiting: list[dict[str, Any]] = []  # records not yet accepted, in order
        self._config: dict[str, Any] = {}
        self._run_name = ""
        self._checked = False  # the server said this token writes and the class is open
        self._refused: ServerRefused | None = None
        self._tries = 0
        self._retry_at = 0.0
        self._last_epoch = 0
        self._count = 0
        self._resender: threading.Thread | None = None
        _live.add(self)

    # -- the records ---------------------------------------------------------------------------

    def open(self, run: RunInfo) -> None:
        student = self.student or run.name or _login() or "student"
        if len(student) > NAME_LENGTH:
            student = student[: NAME_LENGTH - 1] + "…"
        with self._lock:
            self.run_id, self._run_name, self._count, self._last_epoch = uuid.uuid4().hex, student, 0, 0
            self._config = {"losswidget": 1, "student": student, "settings": self.settings, "rule": dict(run.rule)}
        self._send()

    def epoch(self, epoch: int, values: Mapping[str, float], steps: int) -> None:
        self._last_epoch = epoch
        self._add(epoch, {name: encode_number(value) for name, value in values.items()})

    def end(self, outcome: str, stop_code: str | None) -> None:
        self._add(self._last_epoch, {END: str(outcome)[:500], STOP: stop_code})

    def close(self) -> None:
        """The run is over: what waits still goes out (the resender tries while this process lives)."""
        self._send()

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

    # -- sending -------------------------------------------------------------------------------

    def _add(self, epoch: int, metrics: dict[str, Any]) -> None:
        with self._lock:
            if self._refused is not None:  # said by the resender's try: raised here, where the run hears it
                raise self._refused
            if len(self._waiting) >= MAX_WAITING:
                raise ServerRefused(f"it has been unreachable for {MAX_WAITING} records ({self.notice})")
            self._count += 1
            record = {"project": self.link.project, "run": self._run_name, "run_id": self.run_id}
            record.update(metrics=metrics, step=int(epoch), log_id=f"{self.run_id}-{self._count}")
            self._waiting.append(record)
        self._send()

    def _send(self, due_only: bool = True) -> None:
        """Send what waits, in order, unless the server is gone and its next try is not due yet."""
        with self._lock:
            if (self._checked and not self._waiting) or self._refused is not None:
                return
            if due_only and time.monotonic() < self._retry_at:
                return
            try:
                if not self._checked:
                    self._check()
                while self._waiting:
                    batch = [dict(record) for record in self._waiting[:BATCH]]
                    batch[0]["config"] = self._config
                    call(self.link, "bulk_log", {"logs": batch, "hf_token": None}, write=True)
                    del self._waiting[: len(batch)]
            except ServerGone as error:
                self._gone(error)
                return
            except ServerRefused as error:
                self._refused = error
                self._waiting.clear()
                raise
            self._tries, self._retry_at, self.notice = 0, 0.0, None

    def _check(self) -> None:
        status = call(self.link, "get_run_mutation_status", {}, write=True)
        if not isinstance(status, dict) or not status.get("allowed"):
            raise ServerRefused("its write token is not the one in this link (ask your teacher for the class's link)")
        projects = call(self.link, "get_all_projects", {})
        if not isinstance(projects, list) or self.link.project not in projects:
            others = ", ".join(str(name) for name in (projects or [])[:10] if name != OPENED) or "none"
            raise ServerRefused(
                f"it has no class {self.link.project!r} open (its classes: {others}); check the link your teacher gave"
            )
        self._checked = True

    def _gone(self, error: ServerGone) -> None:
        self._retry_at = time.monotonic() + RETRY[min(self._tries, len(RETRY) - 1)]
        self._tries += 1
        if self.notice is None:
            self.notice = (
                f"The class server {self.link.shown!r} cannot be reached ({error}); this run's epochs wait here "
                "and go out when it is back. Training goes on."
            )
        if self._resender is None or not self._resender.is_alive():
            self._resender = threading.Thread(target=self._resend, name="losswidget class server", daemon=True)
            self._resender.start()

    def _resend(self) -> None:
        """Tries again while something waits and no record comes to carry it (the loop ended, a long epoch)."""
        while True:
            with self._lock:
                if self._refused is not None or (self._checked and not self._waiting):
                    return
                wait = self._retry_at - time.monotonic()
            time.sleep(max(wait, 0.05))
            try:
                self._send()
            except ServerRefused:  # kept in _refused: the next record raises it where training hears it
                return

    def wait(self, seconds: float = END_WAIT_SECONDS) -> bool:
        """Wait until everything sent so far is on the server, at most ``seconds``; True if it is."""
        deadline = time.monotonic() + seconds
        while True:
            with self._lock:
                if self._refused is not None:
                    return False
                if self._checked and not self._waiting:
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


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
