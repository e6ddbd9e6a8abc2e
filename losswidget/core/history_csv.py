"""CSV histories: ``kind,epoch,step,train,val,<metrics...>``, one ``epoch`` row per epoch and one
``step`` row per step (for spreadsheets and pandas; JSON Lines is the lossless format). A history
with events (a learning-rate change, a pause, a branch, a setting moved: :mod:`losswidget.core.events`)
has five more columns, ``event,event_old,event_new,event_source,event_parent``, filled in one
``event`` row per event (its ``epoch`` and ``step`` in their own columns), empty in the others.

A metric name is the only text a user puts in the file. One that a spreadsheet would run as a
formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return: OWASP's "CSV
injection") is written with a leading apostrophe, and so is one that starts with an apostrophe;
reading takes exactly one apostrophe off, so every name comes back as it went in."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from losswidget.core.events import Event
from losswidget.core.history_jsonl import DATA_ERRORS, HistoryFileError, brief

CSV_HEADER = ["kind", "epoch", "step", "train", "val"]
EVENT_COLUMNS = ["event", "event_old", "event_new", "event_source", "event_parent"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def _neutralised(name: str) -> str:
    return "'" + name if name.startswith(_FORMULA_START) else name


def _name_from_cell(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


def _csv_number(value: float) -> str:
    return "" if math.isnan(value) else repr(float(value))


def write_csv(history: Any, stream: TextIO) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    metrics = history.metric_names
    events = [] if not history.events else [""] * len(EVENT_COLUMNS)  # the event columns' cells, empty
    writer.writerow(CSV_HEADER + [_neutralised(name) for name in metrics] + (EVENT_COLUMNS if events else []))
    columns = [history[name] for name in ["train", "val", *metrics]]
    for row, epoch in enumerate(history.epochs):
        writer.writerow(["epoch", int(epoch), "", *(_csv_number(c[row]) for c in columns), *events])
    empty = [""] * (1 + len(metrics))
    for step, (train, epoch) in enumerate(zip(history.step_train, history.step_epoch)):
        writer.writerow(["step", int(epoch), step, _csv_number(train), *empty, *events])
    for event in history.events:
        numbers = ["" if value is None else repr(float(value)) for value in (event.old, event.new)]
        cells = [event.kind, *numbers, event.source, _neutralised(event.parent or "")]
        writer.writerow(["event", event.epoch, event.step, "", *empty, *cells])


def _parse_csv_number(text: str) -> float:
    return math.nan if text == "" else float(text)


def _event(epoch: int, row: list[str]) -> Event:
    """An ``event`` row's event (its cells in the five event columns at the row's end)."""
    kind, old, new, source, parent = row[-5:]
    numbers = [None if text == "" else float(text) for text in (old, new)]
    if kind == "patience":  # a whole number of epochs, written as a float
        numbers = [None if value is None else int(value) for value in numbers]
    return Event(kind, epoch, int(row[2]), *numbers, source, _name_from_cell(parent) or None)


def read_csv(path: Path, history_class: Any) -> Any:
    history = history_class()
    # utf-8-sig: a byte-order mark (Excel's "CSV UTF-8") is read as nothing, and no mark is fine.
    with open(path, encoding="utf-8-sig", newline="") as stream:
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
        with_events = len(header) >= len(CSV_HEADER) + len(EVENT_COLUMNS) and header[-5:] == EVENT_COLUMNS
        names = header[3:5] + [_name_from_cell(cell) for cell in header[5 : len(header) - 5 * with_events]]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise HistoryFileError(
                f"{path}, line 1: the column {repeated[0]!r} appears more than once; each value needs one column"
            )
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
                    values = {name: _parse_csv_number(text) for name, text in zip(names, row[3 : 3 + len(names)])}
                    history.log_epoch(epoch, values)
                elif row[0] == "step":
                    steps.append((_parse_csv_number(row[3]), epoch))
                elif row[0] == "event" and with_events:
                    history.events.append(_event(epoch, row))
                else:
                    raise ValueError(f"unknown row kind {row[0][:40]!r} (expected 'epoch', 'step' or 'event')")
            except DATA_ERRORS as error:
                raise HistoryFileError(f"{where}: not a losswidget history row: {brief(error)}") from None
    if steps:
        try:
            history.log_steps(np.array([s[0] for s in steps]), np.array([s[1] for s in steps]))
        except DATA_ERRORS as error:
            raise HistoryFileError(f"{path}: the step rows do not fit together: {brief(error)}") from None
    return history
