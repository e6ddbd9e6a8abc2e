"""Saving and loading a whole history: ``.jsonl`` (lossless, appendable) or ``.csv``.

:meth:`History.save <losswidget.core.history.History.save>` and ``History.load`` call these; a
monitor's live log is written by :mod:`losswidget.files.log_writer` in the same JSONL format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from losswidget.core.history_csv import read_csv, write_csv
from losswidget.core.history_jsonl import HistoryFileError, read_jsonl, write_jsonl
from losswidget.core.validate import check_path, check_regular_file

__all__ = ["HistoryFileError", "load", "save"]


def _suffix(path: Path) -> str:
    if path.is_dir():
        raise IsADirectoryError(f"'path' {str(path)!r} is a directory: give a .jsonl or .csv file path")
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise ValueError(f"history files must end in .jsonl or .csv: {str(path)!r}")
    return suffix


def save(history: Any, path: str | Path) -> Path:
    path = check_path("path", path)
    suffix = _suffix(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside, then rename: a crash mid-save never destroys an older file.
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "w", encoding="utf-8", newline="") as stream:
            (write_jsonl if suffix == ".jsonl" else write_csv)(history, stream)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)  # a failed save leaves the older file and nothing else
        raise
    return path


def load(path: str | Path, history_class: Any) -> Any:
    path = check_path("path", path)
    suffix = _suffix(path)
    if not check_regular_file("path", path):
        raise FileNotFoundError(f"no history file at {str(path)!r}")
    try:
        return read_jsonl(path, history_class) if suffix == ".jsonl" else read_csv(path, history_class)
    except UnicodeError:
        raise HistoryFileError(f"{path}: not a UTF-8 text file, so not a losswidget history") from None
