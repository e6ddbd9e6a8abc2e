"""The teacher's side of a class folder: every student's file followed as it grows, and each run
as one row (who, which settings, its curve, best epoch, stop, diagnosis, whether it still sends).

Each file has its own :class:`~losswidget.files.follower.FileFollower` (the watcher's guarantees:
complete lines only, a replaced or rewritten file read again as a new run, never mixed). What a
student wrote is data, never trusted: a file that is not a run, a name with markup or 10 000
characters, values of 1e300 or NaN, become words in the row, never an error of the view.
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from losswidget.core.diagnosis import diagnose
from losswidget.core.groups import shared_epoch, value_at
from losswidget.core.history import History
from losswidget.core.reasons import StopReason, chart_label
from losswidget.core.replay import best_of, recorded_ses
from losswidget.files.follower import FileFollower

__all__ = ["FolderReader", "Row", "history_rows", "row_of"]

MAX_FILES = 2000  # files of a folder followed; past that the view says how many it left out
SHOWN_NAME = 40  # characters of a student's name shown
SILENT_AFTER = 120.0  # seconds without a record before a running student is called silent
DIAGNOSE_EVERY = 10.0  # seconds a running student's diagnosis is kept (most of a poll's cost is diagnosing)


@dataclass(frozen=True)
class Row:
    """One run as the table shows it (``best`` NaN and ``best_epoch`` None before a validation loss),
    with its curves per epoch (``train`` NaN where an epoch logged none)."""

    student: str
    settings: dict[str, Any]
    epochs: np.ndarray
    val: np.ndarray
    best_epoch: int | None
    best: float
    stop: str
    diagnosis: str
    state: str
    source: str = ""
    problems: tuple[str, ...] = field(default=())
    train: np.ndarray = field(default_factory=lambda: np.empty(0))


ALIVE = ("running", "finished")  # a run's states that are not a stop without finishing


def compared(rows: Sequence[Row]) -> tuple[list[Row], list[Row]]:
    """The runs the class's sentence compares, and those it leaves out: a run that stopped without
    finishing (a killed kernel, a silent student, a run removed) before the last epoch the running and
    finished runs share would hold the whole class back at its own last epoch."""
    alive = [row for row in rows if row.state in ALIVE]
    epoch = shared_epoch((row.epochs, row.val) for row in alive)
    if epoch is None:
        return list(rows), []
    kept, out = [], []
    for row in rows:
        short = row.state not in ALIVE and not math.isfinite(value_at(row.epochs, row.val, epoch))
        (out if short else kept).append(row)
    return kept, out


def shown(name: Any) -> str:
    text = name if isinstance(name, str) and name.strip() else "(no name)"
    text = " ".join(text.split())
    return text if len(text) <= SHOWN_NAME else text[: SHOWN_NAME - 1] + "…"


def settings_of(header: Any) -> dict[str, Any]:
    """A header's settings, kept only where they are a dict of plain values (the rest shown as text)."""
    settings = header.get("settings") if isinstance(header, dict) else None
    if not isinstance(settings, dict):
        return {}
    kept = {}
    for key, value in list(settings.items())[:20]:
        if not isinstance(value, (bool, int, float, str, type(None))):
            value = str(value)
        if isinstance(value, str):
            value = value[:40]
        kept[str(key)[:40]] = value
    return kept


# A diagnosis kind as a teacher reads it in the class table (the kind's own name is a program's).
TABLE_WORDS = {"insufficient data": "too early to tell"}


def stop_words(ended: dict) -> str:
    """An ``end`` record in a few words: the chart's label of its stop code ("early stop"), else
    "all epochs" for a loop that ran to its end, else the outcome's first words."""
    code, outcome = ended.get("stop_code"), ended.get("outcome")
    if code in {reason.value for reason in StopReason}:
        return chart_label(StopReason(code))
    if code is None and isinstance(outcome, str) and outcome.startswith("Finished"):
        return "all epochs"
    text = outcome.split(":")[0] if isinstance(outcome, str) else "ended"
    return shown(text)


def row_of(
    student: str,
    settings: dict[str, Any],
    history: History,
    rule: dict[str, float],
    ended: dict | None,
    state: str,
    source: str = "",
    problems: tuple[str, ...] = (),
    diagnosis: str | None = None,
) -> Row:
    """A run's row: the best epoch by the one rule (:func:`~losswidget.core.replay.best_of`, with the
    run's own ``min_delta`` and ``min_delta_se``), the diagnosis's kind (``diagnosis``: one read
    moments ago, to keep), the stop in words."""
    epochs, val = history.epochs, history.val
    best = best_of(
        val, epochs, rule["min_delta"], "min", rule["min_delta_se"], recorded_ses(history, rule["min_delta_se"])
    )
    if diagnosis is None:
        try:
            diagnosis = diagnose(history).kind
        except Exception as error:  # a student's values must never break the teacher's view
            diagnosis = f"not read ({type(error).__name__})"
    diagnosis = TABLE_WORDS.get(diagnosis, diagnosis)
    stop = "-" if ended is None else stop_words(ended)
    return Row(
        shown(student),
        settings,
        np.array(epochs),
        np.array(val),
        None if best is None else best[0],
        math.nan if best is None else best[1],
        stop,
        diagnosis,
        state,
        source,
        problems,
        np.array(history.train),
    )


def history_rows(histories: Mapping[str, History], settings: Mapping[str, Mapping[str, Any]] | None) -> list[Row]:
    """Runs of one notebook (``{"seed 0": history, ...}``) as finished rows, ``settings[name]`` each
    run's settings (:meth:`losswidget.classroom.view.Classroom.from_histories`)."""
    if not isinstance(histories, Mapping):
        raise TypeError(f"'histories' must be a dict of run name to lw.History: got {type(histories).__name__}")
    settings = {} if settings is None else settings
    if not isinstance(settings, Mapping):
        raise TypeError(f"'settings' must be a dict of run name to a dict of settings: got {type(settings).__name__}")
    rows = []
    for name, history in histories.items():
        if not isinstance(history, History):
            raise TypeError(f"'histories'[{name!r}] must be a lw.History: got {type(history).__name__}")
        own = settings_of({"settings": settings.get(name, {})})
        rule = {"min_delta": 0.0, "min_delta_se": 0.0}
        rows.append(row_of(str(name), own, history, rule, {"outcome": "saved"}, "finished", "this notebook"))
    return rows


class FolderReader:
    """Follows every ``*.jsonl`` file of ``folder`` (files added later included)."""

    def __init__(self, folder: Path, silent_after: float = SILENT_AFTER) -> None:
        self.folder = folder
        self.silent_after = silent_after
        self.followers: dict[Path, FileFollower] = {}
        self.problem: str | None = None
        self._rows: dict[Path, tuple[tuple, Row]] = {}
        self._diagnosed: dict[Path, tuple[float, int, str]] = {}  # when, of which history, the kind

    def poll(self) -> bool:
        """Read what every file gained; True if anything changed."""
        try:
            paths = sorted(path for path in self.folder.glob("*.jsonl"))
            self.problem = None
        except OSError as error:
            paths, self.problem = [], f"the folder cannot be read ({error.strerror or error})"
        if len(paths) > MAX_FILES:
            self.problem = f"{len(paths)} files: following the first {MAX_FILES}"
            paths = paths[:MAX_FILES]
        changed = False
        for path in paths:
            if path not in self.followers:
                self.followers[path] = FileFollower(path)
        for follower in self.followers.values():
            try:
                changed |= follower.poll()
            except OSError as error:  # unreadable now (permissions, a network hiccup): said, tried again
                follower.problem = f"the file cannot be read ({error.strerror or error})"
        return changed

    def rows(self, now: float | None = None) -> tuple[list[Row], list[str]]:
        """A row per run, and a sentence per file that is not (yet) one."""
        now = time.time() if now is None else now
        rows, others = [], []
        for path, follower in self.followers.items():
            if not follower.header:
                why = follower.problem or "nothing complete written yet"
                others.append(f"{path.name}: not a run ({why})")
                continue
            state = self._state(path, follower, now)
            history = follower.history
            last = repr(float(history.val[-1])) if len(history) else ""  # a string: NaN equals NaN
            run = str(follower.header.get("run"))[:64]  # the writer's run id: a new run at this path
            key = (id(history), run, len(history), history.last_epoch, last, state, follower.ended, follower.problem)
            cached = self._rows.get(path)
            if cached is None or cached[0] != key:
                header = follower.header
                problems = (follower.problem,) if follower.problem else ()
                when, of, kind = self._diagnosed.get(path, (-math.inf, 0, ""))
                fresh = state == "running" and of == id(history) and now - when < DIAGNOSE_EVERY
                row = row_of(
                    header.get("student", follower.history.name),
                    settings_of(header),
                    follower.history,
                    follower.rule,
                    follower.ended,
                    state,
                    path.name,
                    problems,
                    kind if fresh else None,
                )
                if not fresh:
                    self._diagnosed[path] = (now, id(history), row.diagnosis)
                cached = self._rows[path] = (key, row)
            rows.append(cached[1])
        return rows, others

    def _state(self, path: Path, follower: FileFollower, now: float) -> str:
        if follower.ended is not None:
            return "finished"
        if _gone(follower.header):
            torn = ", its last line half-written" if follower.incomplete else ""
            return f"stopped without finishing (its process is gone{torn})"
        try:
            quiet = now - os.stat(path).st_mtime
        except OSError:
            return "file gone"
        return f"silent for {_duration(quiet)}" if quiet >= self.silent_after else "running"


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


def _gone(header: dict) -> bool:
    """True when the header's writer ran on this host and its process is no longer there."""
    pid, host = header.get("pid"), header.get("host")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0 or host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, OSError):
        return False
    return False
