"""JSON Lines histories (lossless, appendable): the record format, and reading or writing a whole file.

One JSON object per line::

    {"format": "losswidget-history", "version": 1, "name": null, "min_delta": 0.0}
    {"kind": "epoch", "epoch": 0, "values": {"train": 0.9, "val": 1.1, "acc": 0.4}}
    {"kind": "steps", "epoch": [0, 0, 0], "train": [1.2, 1.0, 0.95]}
    {"kind": "event", "event": "lr", "epoch": 3, "step": 120, "old": 0.1, "new": 0.05, "source": "control"}
    {"kind": "end", "outcome": "Stopped: ...", "stop_code": "user", "at": 1764000000.0}

Several epoch records for one epoch merge (the later value wins), so a writer may append as it
goes. Numbers that JSON cannot hold are written as ``null`` (NaN) and the strings ``"inf"`` /
``"-inf"``. A torn last line (the writer died mid-write) is skipped with a warning; any other bad
line is an error naming the file and line. A record of a kind this version does not know (a newer
writer's) is skipped, so that a log with new kinds of record still loads. Nothing is ever pickled.

This module never imports :class:`~losswidget.core.history.History` (which saves and loads through
it): readers are given the class to fill, so the two modules form no circle.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from losswidget.core.events import Event

FORMAT = "losswidget-history"
VERSION = 1
STEPS_PER_RECORD = 1000


class HistoryFileError(ValueError):
    """A file that is not a losswidget history, or is damaged before its last line.

    The one error :func:`load` raises for any content whatsoever; its message names the file and
    the line. (A missing or unreadable file raises the usual ``OSError``.)"""


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


def header_line(name: str | None, rule: dict[str, float] | None = None, **writer: Any) -> str:
    """The first line. A monitor's log also says its early stopping's ``rule`` (``min_delta``,
    ``min_delta_se``: :attr:`~losswidget.core.stopping.EarlyStopping.rule`), so that a
    watcher names the best epoch by the job's own rule, and who writes it (``writer``: a run id, the
    process and host, the start time), so that a second writer is refused by name and a watcher
    can tell a new run at the same path from the one it follows. Readers ignore what they do not use."""
    header: dict[str, Any] = {"format": FORMAT, "version": VERSION, "name": name}
    header.update(rule or {})
    header.update(writer)
    return json.dumps(header) + "\n"


def end_line(outcome: str, stop_code: str | None) -> str:
    return json.dumps({"kind": "end", "outcome": outcome, "stop_code": stop_code, "at": time.time()}) + "\n"


def epoch_line(record: dict[str, float]) -> str:
    values = {key: encode_number(value) for key, value in record.items() if key != "epoch"}
    return json.dumps({"kind": "epoch", "epoch": record["epoch"], "values": values}) + "\n"


def steps_line(train: Iterable[float], epoch: Iterable[int]) -> str:
    encoded = [encode_number(float(v)) for v in train]
    return json.dumps({"kind": "steps", "epoch": [int(e) for e in epoch], "train": encoded}) + "\n"


def event_line(event: Any) -> str:
    """A :class:`~losswidget.core.events.Event` as its ``event`` record."""
    return json.dumps(event.record()) + "\n"


def write_jsonl(history: Any, stream: TextIO) -> None:
    stream.write(header_line(history.name))
    for record in history.records():
        # Epochs that logged nothing but NaN still get a record: the row exists.
        stream.write(epoch_line(record))
    for start in range(0, history.n_steps, STEPS_PER_RECORD):
        stop = start + STEPS_PER_RECORD
        stream.write(steps_line(history.step_train[start:stop], history.step_epoch[start:stop]))
    for event in history.events:
        stream.write(event_line(event))


class Header(NamedTuple):
    name: str | None
    min_delta: float  # 0.0 where the file does not say
    min_delta_se: float = 0.0


def read_header(record: Any, where: str) -> Header:
    """The first record's meaning; HistoryFileError (naming ``where``) if it is not a header this
    losswidget reads."""
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise HistoryFileError(f"{where}: not a losswidget history (the first line must be a {FORMAT!r} header)")
    version = record.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise HistoryFileError(f"{where}: bad format version {version!r}")
    if version > VERSION:
        raise HistoryFileError(
            f"{where}: written by a newer losswidget (format version {version}); "
            f"this one reads version {VERSION}: upgrade losswidget"
        )
    name = record.get("name")
    rule = [_rule_value(record.get(key, 0.0)) for key in ("min_delta", "min_delta_se")]
    return Header(name if isinstance(name, str) else None, *rule)


def _rule_value(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        return 0.0  # an odd value says nothing: the plain rule
    return float(value)


def apply_record(history: Any, record: Any) -> None:
    """Add one parsed record (an epoch, steps or event record) to ``history``; an ``end`` record, or
    one of a kind a newer losswidget writes, adds nothing. ValueError or TypeError for a record that
    is not one (a follower says so and goes on)."""
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
    elif kind == "event":
        history.events.append(Event.from_record(record))
    elif not isinstance(kind, str):
        raise ValueError(f"unknown record kind {kind!r}")
    # "end" (one loop's end: watchers read it), or a kind of a newer losswidget: no values here


DATA_ERRORS = (TypeError, ValueError, OverflowError, RecursionError)  # what odd content can raise while parsing


def read_jsonl(path: Path, history_class: Any) -> Any:
    with open(path, encoding="utf-8") as stream:
        lines = stream.read().split("\n")
    # A file written line by line ends with "\n": the last piece is empty.
    complete_end = lines[-1] == ""
    if complete_end:
        lines.pop()
    if not lines:
        raise HistoryFileError(f"{path}, line 1: empty file, not a losswidget history")
    if not lines[0].strip():
        raise HistoryFileError(
            f"{path}, line 1: blank, not a losswidget history (its first line must be the {FORMAT!r} header)"
        )
    history = None
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
            if isinstance(error, json.JSONDecodeError):
                reason = f"{error.msg}, character {error.pos + 1}"
            else:
                reason = "nested too deeply"
            if history is None:
                raise HistoryFileError(f"{where}: not valid JSON ({reason}), so not a losswidget history") from None
            raise HistoryFileError(
                f"{where}: not valid JSON ({reason}): a torn or edited record; only a log's last line may be "
                "torn (a writer stopped mid-write), and it is then skipped"
            ) from None
        try:
            if history is None:
                history = history_class(read_header(record, where).name)
            else:
                apply_record(history, record)
        except HistoryFileError:
            raise
        except DATA_ERRORS as error:
            raise HistoryFileError(f"{where}: not a losswidget history record: {brief(error)}") from None
    return history  # line 1 is non-blank: set or raised


def brief(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."
