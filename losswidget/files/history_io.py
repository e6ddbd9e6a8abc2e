"""Reading and writing histories: JSON Lines (lossless, appendable) and CSV.

JSONL layout, one JSON object per line::

    {"format": "losswidget-history", "version": 1, "name": null}
    {"kind": "epoch", "epoch": 0, "values": {"train": 0.9, "val": 1.1, "acc": 0.4}}
    {"kind": "steps", "epoch": [0, 0, 0], "train": [1.2, 1.0, 0.95]}
    {"kind": "end", "outcome": "Stopped: ...", "stop_code": "user", "at": 1764000000.0}

Several epoch records for one epoch merge (the later value wins), so a writer
may append as it goes. Numbers that JSON cannot hold are written as ``null``
(NaN) and the strings ``"inf"`` / ``"-inf"``. A torn last line (the writer died
mid-write) is skipped with a warning; any other bad line is an error naming the
file and line. Nothing is ever pickled.

CSV layout: ``kind,epoch,step,train,val,<metrics...>``, one ``epoch`` row per
epoch and one ``step`` row per step.
"""

from __future__ import annotations

import csv
import json
import math
import re
import time
import warnings
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from losswidget.core.history import History

FORMAT = "losswidget-history"
VERSION = 1
STEPS_PER_RECORD = 1000
CSV_HEADER = ["kind", "epoch", "step", "train", "val"]


class HistoryFileError(ValueError):
    """A file that is not a losswidget history, or is damaged before its last line.

    The one error :func:`load` raises for any content whatsoever; its message names the file and
    the line. (A missing or unreadable file raises the usual ``OSError``.)"""


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise ValueError(f"history files must end in .jsonl or .csv: {str(path)!r}")
    return suffix


def encode_number(value: float) -> float | str | None:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return None
    return "inf" if value > 0 else "-inf"


def decode_number(value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, str):
        if value.strip().lower() in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity"):
            return float(value)
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"not a number: {value!r}")
    return float(value)


# -- JSONL --------------------------------------------------------------------------


def header_line(name: str | None) -> str:
    return json.dumps({"format": FORMAT, "version": VERSION, "name": name}) + "\n"


def epoch_line(record: dict[str, float]) -> str:
    values = {key: encode_number(value) for key, value in record.items() if key != "epoch"}
    return json.dumps({"kind": "epoch", "epoch": record["epoch"], "values": values}) + "\n"


def steps_line(train: Iterable[float], epoch: Iterable[int]) -> str:
    encoded = [encode_number(float(v)) for v in train]
    return json.dumps({"kind": "steps", "epoch": [int(e) for e in epoch], "train": encoded}) + "\n"


def write_jsonl(history: History, stream: TextIO) -> None:
    stream.write(header_line(history.name))
    for record in history.records():
        # Epochs that logged nothing but NaN still get a record: the row exists.
        stream.write(epoch_line(record))
    for start in range(0, history.n_steps, STEPS_PER_RECORD):
        stop = start + STEPS_PER_RECORD
        stream.write(steps_line(history.step_train[start:stop], history.step_epoch[start:stop]))


def _check_header(record: Any, where: str) -> str | None:
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise HistoryFileError(f"{where}: not a losswidget history (the first line must be a {FORMAT!r} header)")
    version = record.get("version")
    if not isinstance(version, int) or version < 1:
        raise HistoryFileError(f"{where}: bad format version {version!r}")
    if version > VERSION:
        raise HistoryFileError(
            f"{where}: written by a newer losswidget (format version {version}); "
            f"this one reads version {VERSION}: upgrade losswidget"
        )
    name = record.get("name")
    return name if isinstance(name, str) else None


def _apply_record(history: History, record: Any) -> None:
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    kind = record.get("kind")
    if kind == "epoch":
        values = record.get("values")
        if not isinstance(values, dict):
            raise ValueError("an epoch record needs a 'values' object")
        history.log_epoch(record.get("epoch"), {k: decode_number(v) for k, v in values.items()})
    elif kind == "steps":
        train, epoch = record.get("train"), record.get("epoch")
        if not isinstance(train, list) or not isinstance(epoch, list) or len(train) != len(epoch):
            raise ValueError("a steps record needs 'train' and 'epoch' lists of equal length")
        if not all(isinstance(e, int) and not isinstance(e, bool) for e in epoch):
            raise ValueError("step epochs must be integers")
        history.log_steps([decode_number(v) for v in train], epoch)
    elif kind == "end":
        pass  # the end of one loop (written by a monitor): no values; watchers read it
    else:
        raise ValueError(f"unknown record kind {kind!r}")


DATA_ERRORS = (TypeError, ValueError, OverflowError, RecursionError)  # what odd content can raise while parsing


def read_jsonl(path: Path) -> History:
    with open(path, encoding="utf-8") as stream:
        lines = stream.read().split("\n")
    # A file written line by line ends with "\n": the last piece is empty.
    complete_end = lines[-1] == ""
    if complete_end:
        lines.pop()
    if not lines or not lines[0].strip():
        raise HistoryFileError(f"{path}, line 1: empty file, not a losswidget history")
    history: History | None = None
    for number, line in enumerate(lines, start=1):
        where = f"{path}, line {number}"
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as error:  # JSONDecodeError, or nesting too deep
            if number == len(lines) and not complete_end and history is not None:
                warnings.warn(
                    f"losswidget: {where} is incomplete (the writer stopped mid-write); "
                    f"loaded the {len(history)} epochs and {history.n_steps} steps before it",
                    stacklevel=3,
                )
                break
            reason = error.msg if isinstance(error, json.JSONDecodeError) else "nested too deeply"
            raise HistoryFileError(f"{where}: not valid JSON ({reason})") from None
        try:
            if history is None:
                history = History(_check_header(record, where))
            else:
                _apply_record(history, record)
        except HistoryFileError:
            raise
        except DATA_ERRORS as error:
            raise HistoryFileError(f"{where}: not a losswidget history record: {_brief(error)}") from None
    return history  # type: ignore[return-value]  # line 1 is non-blank: set or raised


def _brief(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."


# -- CSV ----------------------------------------------------------------------------


def _csv_number(value: float) -> str:
    return "" if math.isnan(value) else repr(float(value))


def write_csv(history: History, stream: TextIO) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    metrics = history.metric_names
    writer.writerow(CSV_HEADER + metrics)
    columns = [history[name] for name in ["train", "val", *metrics]]
    for row, epoch in enumerate(history.epochs):
        writer.writerow(["epoch", int(epoch), "", *(_csv_number(c[row]) for c in columns)])
    empty = [""] * (1 + len(metrics))
    for step, (train, epoch) in enumerate(zip(history.step_train, history.step_epoch)):
        writer.writerow(["step", int(epoch), step, _csv_number(train), *empty])


def _parse_csv_number(text: str) -> float:
    return math.nan if text == "" else float(text)


def read_csv(path: Path) -> History:
    history = History()
    with open(path, encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream)
        try:
            header = next(reader, None)
        except csv.Error as error:
            raise HistoryFileError(f"{path}, line 1: not a CSV file ({error})") from None
        if header is None or header[: len(CSV_HEADER)] != CSV_HEADER:
            shown = ",".join(header or [])
            raise HistoryFileError(
                f"{path}, line 1: not a losswidget history "
                f"(expected a header starting {','.join(CSV_HEADER)}, got {shown[:80]!r})"
            )
        names = header[3:]
        steps: list[tuple[float, int]] = []
        while True:
            where = f"{path}, line {reader.line_num + 1}"
            try:
                row = next(reader, None)
            except csv.Error as error:  # a NUL byte, a field over the size limit
                raise HistoryFileError(f"{where}: not valid CSV ({error})") from None
            if row is None:
                break
            if not row:
                continue
            if len(row) != len(header):
                raise HistoryFileError(f"{where}: expected {len(header)} fields, got {len(row)}")
            try:
                epoch = int(row[1])
                if row[0] == "epoch":
                    values = {name: _parse_csv_number(text) for name, text in zip(names, row[3:])}
                    history.log_epoch(epoch, values)
                elif row[0] == "step":
                    steps.append((_parse_csv_number(row[3]), epoch))
                else:
                    raise ValueError(f"unknown row kind {row[0][:40]!r} (expected 'epoch' or 'step')")
            except DATA_ERRORS as error:
                raise HistoryFileError(f"{where}: not a losswidget history row: {_brief(error)}") from None
    if steps:
        try:
            history.log_steps(np.array([s[0] for s in steps]), np.array([s[1] for s in steps]))
        except DATA_ERRORS as error:
            raise HistoryFileError(f"{path}: the step rows do not fit together: {_brief(error)}") from None
    return history


# -- entry points -------------------------------------------------------------------


def save(history: History, path: str | Path) -> Path:
    path = Path(path)
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


def load(path: str | Path) -> History:
    path = Path(path)
    suffix = _suffix(path)
    if not path.is_file():
        raise FileNotFoundError(f"no history file at {str(path)!r}")
    try:
        return read_jsonl(path) if suffix == ".jsonl" else read_csv(path)
    except UnicodeError:
        raise HistoryFileError(f"{path}: not a UTF-8 text file, so not a losswidget history") from None


class HistoryWriter:
    """Append a run to a ``.jsonl`` file as it happens, flushing every record.

    A crash loses at most the steps not yet written (they go out in batches);
    :func:`load` reads the file back, skipping a torn last line.
    """

    def __init__(self, path: str | Path, name: str | None = None) -> None:
        path = Path(path)
        if path.suffix.lower() != ".jsonl":
            raise ValueError(f"'log_file' must end in .jsonl: {str(path)!r}")
        if path.exists() and path.stat().st_size > 0:
            raise FileExistsError(
                f"'log_file' {str(path)!r} already holds a history: choose a new path or delete it "
                "(History.load reads the old one)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._stream = open(path, "a", encoding="utf-8")
        weakref.finalize(self, self._stream.close)  # closed when the monitor that writes it is gone
        self._write(header_line(name))

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()

    def write_epoch(self, record: dict[str, float]) -> None:
        self._write(epoch_line(record))

    def write_steps(self, train: Any, epoch: Any) -> None:
        train = np.asarray(train)
        epoch = np.broadcast_to(np.asarray(epoch), train.shape)
        for start in range(0, train.size, STEPS_PER_RECORD):
            self._stream.write(
                steps_line(train[start : start + STEPS_PER_RECORD], epoch[start : start + STEPS_PER_RECORD])
            )
        self._stream.flush()

    def next_run(self, name: str | None) -> HistoryWriter:
        """The writer of the next run (``new_run``): a new file beside this one, ``<stem>.run2.jsonl``,
        ``.run3``, ... (the first free number), so that every run is saved and each file loads alone."""
        self.close()
        stem = re.sub(r"\.run\d+$", "", self.path.stem)
        number = 2
        while (candidate := self.path.with_name(f"{stem}.run{number}.jsonl")).exists():
            number += 1
        return HistoryWriter(candidate, name)

    def write_end(self, outcome: str, stop_code: str | None) -> None:
        """Mark the end of a training loop (a later loop may append more epochs)."""
        self._write(json.dumps({"kind": "end", "outcome": outcome, "stop_code": stop_code, "at": time.time()}) + "\n")

    def close(self) -> None:
        if not self._stream.closed:
            self._stream.close()
