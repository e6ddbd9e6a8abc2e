"""A student's side of a class folder: the run sent, as it trains, to one file of its own.

>>> monitor = lw.LiveLossMonitor(outputs=[lw.ClassFolder("/shared/lab3", student="ada",
...                                                       settings={"weight_decay": 1e-3})])  # doctest: +SKIP

The file is a monitor's live log (:class:`~losswidget.files.log_writer.HistoryWriter`, the format
of :mod:`losswidget.core.history_jsonl`: ``History.load`` reads it) whose header also says the
student and the settings. Its name is the student's, made safe (letters, digits, ``-``, ``_``, at
most :data:`FILE_STEM` characters); a name already taken gets ``ada.2.jsonl``, ``ada.3.jsonl``...:
no student ever writes into another's file. Nothing touches the disk before the run opens, and a
folder that is gone, full or unwritable turns this output off with a ``losswidget:`` warning while
training and the chart go on (:mod:`losswidget.outputs.fanout`).
"""

from __future__ import annotations

import getpass
import math
import os
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from losswidget.core.validate import check_path
from losswidget.files.log_writer import HistoryWriter
from losswidget.outputs.base import RunInfo
from losswidget.outputs.jsonl import WriterRecords

__all__ = ["ClassFolder", "file_stem"]

FILE_STEM = 60  # characters of a student's name kept in the file's name
NAME_LENGTH = 200  # characters of a student's name kept in the header
MAX_COPIES = 10_000  # ada.2 ... ada.10000: past that the folder is not a class's
SETTING_TYPES = (bool, int, float, str, type(None))


def file_stem(student: str) -> str:
    """``student`` as a safe file name stem: ASCII letters, digits, ``-`` and ``_`` (accents dropped,
    anything else one ``_``), never empty, never starting with a dot, at most :data:`FILE_STEM` long."""
    ascii_name = unicodedata.normalize("NFKD", student).encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_name).strip("_-")[:FILE_STEM].strip("_-")
    return stem or "student"


def _check_settings(settings: Any) -> dict[str, Any]:
    if settings is None:
        return {}
    if not isinstance(settings, Mapping):
        raise TypeError(
            f"'settings' must be a dict of setting name to value, e.g. {{'weight_decay': 1e-3}}: "
            f"got {type(settings).__name__} {settings!r:.80}"
        )
    checked = {}
    for key, value in settings.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"'settings' names must be non-empty strings: got {key!r:.80}")
        if isinstance(value, np.generic):
            value = value.item()
        if not isinstance(value, SETTING_TYPES):
            raise TypeError(
                f"'settings'[{key!r}] must be a number, a string, True/False or None: "
                f"got {type(value).__name__} {value!r:.80}"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"'settings'[{key!r}] must be finite: {value!r}")
        checked[key] = value
    return checked


class ClassFolder(WriterRecords):
    """Send a run to a class folder that a teacher's :class:`~losswidget.classroom.view.Classroom` reads.

    ``student``: the name shown to the class (default: the run's name, else the login name);
    ``settings``: the knob values the class compares, a dict of names to numbers, strings, booleans
    or None. Every argument is checked here; the folder is made and the file claimed when the run opens.
    """

    name = "class folder"

    def __init__(self, folder: str | os.PathLike, student: str | None = None, settings: Mapping | None = None) -> None:
        self.folder = check_path("folder", folder)
        if student is not None and (not isinstance(student, str) or not student.strip()):
            raise TypeError(f"'student' must be a non-empty string or None: {student!r:.80}")
        self.student = student
        self.settings = _check_settings(settings)
        self.writer: HistoryWriter | None = None
        self.path: Path | None = None

    def open(self, run: RunInfo) -> None:
        student = self.student or run.name or _login() or "student"
        if len(student) > NAME_LENGTH:
            student = student[: NAME_LENGTH - 1] + "…"
        about = {"student": student, "settings": self.settings}
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = _claim(self.folder, file_stem(student))
        try:
            self.writer = HistoryWriter(self.path, student, dict(run.rule), about)
        except BaseException:
            self.path.unlink(missing_ok=True)
            raise

    def failure(self, error: BaseException) -> str:
        return (
            f"The class folder {str(self.folder)!r} could not be written ({type(error).__name__}: {error}); "
            "this run goes on without it, and the teacher's view keeps what it sent."
        )


def _claim(folder: Path, stem: str) -> Path:
    """A file of the folder that no one else writes: ``stem.jsonl``, else ``stem.2.jsonl``, ...
    (created exclusively, so two students of one name, even at one instant, get two files)."""
    for copy in range(1, MAX_COPIES + 1):
        path = folder / (f"{stem}.jsonl" if copy == 1 else f"{stem}.{copy}.jsonl")
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            continue
        return path
    raise FileExistsError(
        f"the class folder already holds {MAX_COPIES} runs named {stem!r}: give 'student' another name"
    )


def _login() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no login name in this environment (a container without a user entry)
        return None
