"""The teacher's side of a class server: every student's run read from trackio's HTTP API as it grows,
each as one row, the same rows a class folder gives (:mod:`losswidget.classroom.folder`).

A poll asks for the class's runs and their configs (two calls), then the records of each run still
running, 64 runs a call (finished runs are read again only every :data:`FINISHED_EVERY` seconds: a
later loop in the same run). What a student sent is data, never trusted: a name with markup or
10 000 characters, values of 1e300 or NaN, a record that is not a number become words in the row. A
run the view has read is never forgotten: one deleted on the server (whoever holds the write token
can) stays, said; a server that is gone or restarting keeps every row as last read, said.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any

from losswidget.classroom.folder import DIAGNOSE_EVERY, MAX_FILES, SILENT_AFTER, Row, _duration, row_of, settings_of
from losswidget.classroom.server_link import OPENED, READ_TIMEOUT, ServerGone, ServerLink, ServerRefused, call
from losswidget.classroom.server_send import END, STOP
from losswidget.core.history import History
from losswidget.core.history_jsonl import DATA_ERRORS, _rule_value, apply_record

__all__ = ["ServerReader"]

BATCH_RUNS = 64  # runs in one get_logs_batch call (the server's limit)
MAX_POINTS = 10_000  # records of one run in one read (the server's limit; it thins longer runs)
FINISHED_EVERY = 30.0  # seconds between reads of a finished run


class ServerRun:
    """One student's run as last read: its history rebuilt from the records whenever they changed."""

    def __init__(self, run_id: str, name: Any) -> None:
        self.run_id, self.name = run_id, name
        self.config: dict = {}
        self.history = History(str(name)[:64])
        self.ended: dict | None = None
        self.problem: str | None = None
        self.removed = False
        self.updated: float | None = None  # when it last grew (the view's clock; the first from the server's)
        self.read_at = -math.inf
        self.version = 0  # counts the changes read
        self._key: tuple = ()

    def update(self, logs: Any, now: float) -> bool:
        if not isinstance(logs, list):
            return False
        last = logs[-1] if logs else None
        key = (len(logs), repr(last)[:200])
        if key == self._key:
            return False
        self._key = key
        history, ended, problems = History(str(self.name)[:64]), None, []
        order = sorted(range(len(logs)), key=lambda index: _step(logs[index]))
        for index in order:
            row = logs[index]
            if not isinstance(row, dict) or _step(row) < 0:
                problems.append("a record without an epoch")
                continue
            if END in row:
                ended = {"outcome": str(row.get(END))[:300], "stop_code": row.get(STOP)}
                continue
            values = {name: value for name, value in row.items() if name not in ("step", "timestamp")}
            try:
                apply_record(history, {"kind": "epoch", "epoch": _step(row), "values": values})
            except DATA_ERRORS as error:
                problems.append(f"epoch {_step(row)}: {str(error)[:80]}")
        if last is not None and isinstance(last, dict) and END not in last:
            ended = None  # a later loop of the same run began after the end read above
        self.history, self.ended = history, ended
        self.version += 1
        self.problem = f"{len(problems)} records not read ({problems[0]})" if problems else None
        if self.updated is None and isinstance(last, dict):
            self.updated = min(_server_time(last.get("timestamp"), now), now)
        else:
            self.updated = now
        return True


def _step(row: Any) -> int:
    step = row.get("step") if isinstance(row, dict) else None
    return step if isinstance(step, int) and not isinstance(step, bool) else -1


def _server_time(stamp: Any, now: float) -> float:
    try:
        return datetime.fromisoformat(str(stamp)).timestamp()
    except (TypeError, ValueError, OverflowError):
        return now


class ServerReader:
    """Follows every run of one class (trackio project) on a trackio server."""

    def __init__(self, link: ServerLink, silent_after: float = SILENT_AFTER) -> None:
        self.link = link
        self.silent_after = silent_after
        self.runs: dict[str, ServerRun] = {}
        self.problem: str | None = None
        self.opened = False  # the teacher opened the class (students are refused until then)
        self._diagnosed: dict[str, tuple[float, int, str]] = {}  # when, of which version, the kind
        self._rows: dict[str, tuple[tuple, Row]] = {}

    def poll(self, now: float | None = None) -> bool:
        """Read what the class's runs gained; True if anything changed (the server's state included)."""
        now = time.time() if now is None else now
        before = self.problem
        try:
            changed = self._read(now)
            self.problem = None if self.opened else self._not_open()
        except ServerGone as error:
            changed = False
            self.problem = (
                f"the class server {self.link.shown} cannot be reached ({error}): the runs show what it sent "
                "until now, and the view reads again at its next poll"
            )
        except ServerRefused as error:
            changed = False
            self.problem = f"the class server {self.link.shown} refused to be read: {error}"
        return changed or self.problem != before

    def _not_open(self) -> str:
        return (
            f"the class {self.link.project!r} is not open on {self.link.base}: students' runs are refused until "
            "the teacher opens it (lw.open_class(link) with the write token)"
        )

    def _read(self, now: float) -> bool:
        project = self.link.project
        records = call(self.link, "get_runs_for_project", {"project": project}, timeout=READ_TIMEOUT)
        configs = call(self.link, "get_run_configs", {"project": project}, timeout=READ_TIMEOUT)
        records = records if isinstance(records, list) else []
        configs = configs if isinstance(configs, dict) else {}
        present, changed = set(), False
        for record in records:
            run_id = str(record.get("id")) if isinstance(record, dict) else ""
            if run_id == OPENED:
                self.opened = True
                continue
            if not run_id or (run_id not in self.runs and len(self.runs) >= MAX_FILES):
                continue
            present.add(run_id)
            run = self.runs.get(run_id)
            if run is None:
                run = self.runs[run_id] = ServerRun(run_id, record.get("name"))
                changed = True
            config = configs.get(run_id)
            run.config = config if isinstance(config, dict) else {}
        for run_id, run in self.runs.items():
            removed = run_id not in present
            changed |= removed != run.removed
            run.removed = removed
        due = [
            run
            for run in self.runs.values()
            if not run.removed and (run.ended is None or now - run.read_at >= FINISHED_EVERY)
        ]
        for start in range(0, len(due), BATCH_RUNS):
            chunk = due[start : start + BATCH_RUNS]
            asked = [{"run": run.name, "run_id": run.run_id} for run in chunk]
            asking = {"project": project, "runs": asked, "max_points": MAX_POINTS}
            answer = call(self.link, "get_logs_batch", asking, timeout=READ_TIMEOUT)
            by_id = {item.get("run_id"): item for item in answer or [] if isinstance(item, dict)}
            for run in chunk:
                run.read_at = now
                changed |= run.update(by_id.get(run.run_id, {}).get("logs"), now)
        return changed

    def rows(self, now: float | None = None) -> tuple[list[Row], list[str]]:
        """A row per run (the server has no half-written files: nothing else to say per run)."""
        now = time.time() if now is None else now
        rows = []
        for run_id, run in self.runs.items():
            state = self._state(run, now)
            key = (run.version, state, repr(run.config)[:2000])
            cached = self._rows.get(run_id)
            if cached is not None and cached[0] == key:
                rows.append(cached[1])
                continue
            rule = run.config.get("rule") if isinstance(run.config.get("rule"), dict) else {}
            rule = {key: _rule_value(rule.get(key, 0.0)) for key in ("min_delta", "min_delta_se")}
            when, of, kind = self._diagnosed.get(run_id, (-math.inf, -1, ""))
            # a running student's diagnosis is kept a few seconds (most of a poll's cost is diagnosing)
            fresh = of == run.version or (state == "running" and now - when < DIAGNOSE_EVERY)
            student = run.config.get("student", run.name)
            row = row_of(
                student,
                settings_of(run.config),
                run.history,
                rule,
                run.ended,
                state,
                f"server run {run_id[:12]}",
                (run.problem,) if run.problem else (),
                kind if fresh else None,
            )
            if not fresh:
                self._diagnosed[run_id] = (now, run.version, row.diagnosis)
            self._rows[run_id] = (key, row)
            rows.append(row)
        return rows, []

    def _state(self, run: ServerRun, now: float) -> str:
        if run.removed:
            return "removed from the server (shown as last read)"
        if run.ended is not None:
            return "finished"
        quiet = now - (run.updated if run.updated is not None else now)
        return f"silent for {_duration(quiet)}" if quiet >= self.silent_after else "running"
