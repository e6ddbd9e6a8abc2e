"""A history as a TensorBoard run, and a TensorBoard run as a history.

Tags (the names TensorBoard groups by their prefix): ``loss/train`` and ``loss/val`` per epoch (at
step = the epoch), the validation standard errors ``loss/val_se`` and ``loss/val_diff_se`` where the
run has them, every other metric under its own name (``acc``, ``lr``), and each step loss as
``loss/train_step`` at its global step (counted from 0 in the run), carrying in the same event the
``epoch`` it belongs to (the scalar Lightning and the Hugging Face Trainer write beside their step
losses too). NaN (a gap) is not written. Each event (a learning-rate change, a pause, a branch, a
setting moved: :mod:`losswidget.core.events`) is a text summary ``events`` at its step, its sentence
as TensorBoard's Text tab shows it (reading a run back leaves the text out: the JSONL log keeps them).

Reading takes these tags back to the names they came from; any other tag becomes a metric of its
own name, at its step (``tags={"train/loss": "train", "eval/loss": "val"}`` maps another tool's
tags onto the train and validation curves). Step losses are read where their events carry an
``epoch``. A later value at the same step replaces an earlier one, as TensorBoard shows it.
"""

from __future__ import annotations

import math
import re
import struct
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from losswidget.core import tensorboard_events as events
from losswidget.core.replay import DIFF_SE
from losswidget.core.validate import check_path, user_stacklevel

EVENT_TAG = "events"
TAGS = {"train": "loss/train", "val": "loss/val", "val_se": "loss/val_se", DIFF_SE: f"loss/{DIFF_SE}"}
STEP_TAG = "loss/train_step"
EPOCH_TAG = "epoch"
FLOAT32_MAX = float(np.finfo(np.float32).max)
RUN_NAME_CHARS = 60  # a run's folder name: at most 240 bytes in UTF-8, under every file system's 255


def tag_of(name: str) -> str:
    return TAGS.get(name, name)


def epoch_event(epoch: int, values: Mapping[str, float]) -> bytes:
    """One epoch's finite values as one event at step = the epoch ("" when none is finite)."""
    scalars = {tag_of(name): value for name, value in values.items() if not math.isnan(value)}
    return events.scalar_event(epoch, scalars) if scalars else b""


def step_events(losses: np.ndarray, epochs: np.ndarray, first: int) -> bytes:
    losses = np.asarray(losses, dtype=np.float64)
    keep = ~np.isnan(losses)
    steps = np.arange(first, first + losses.size, dtype=np.int64)
    if not keep.all():
        steps, losses, epochs = steps[keep], losses[keep], np.asarray(epochs)[keep]
    return events.step_events(STEP_TAG, steps, losses, {EPOCH_TAG: epochs}) if steps.size else b""


def event_text(event: Any) -> bytes:
    """One event as a TFRecord: a text summary (TensorBoard's "text" plugin, a scalar DT_STRING tensor)
    tagged ``events`` at the event's step, holding its sentence. The protocol buffer fields by number:
    Summary.Value tag 1, tensor 8, metadata 9; TensorProto dtype 1 (DT_STRING = 7), tensor_shape 2,
    string_val 8; SummaryMetadata plugin_data 1, PluginData plugin_name 1."""
    field = events._field  # the event file's own encoding helpers (one format, one module writes its bytes)
    tensor = b"\x08\x07" + field(2, b"") + field(8, event.sentence.encode())
    value = field(1, EVENT_TAG.encode()) + field(8, tensor) + field(9, field(1, field(1, b"text")))
    wall = b"\x09" + struct.pack("<d", time.time())
    return events._record(wall + b"\x10" + events._varint(event.step) + field(5, field(1, value)))


def beyond_float32(values: Mapping[str, float]) -> dict[str, float]:
    """The values an event file cannot hold (written there as inf), by name."""
    return {name: value for name, value in values.items() if math.isfinite(value) and abs(value) > FLOAT32_MAX}


def float32_sentence(name: str, value: float) -> str:
    return (
        f"losswidget: {name!r} = {value:.3g} is beyond the largest number a TensorBoard event file holds "
        f"({FLOAT32_MAX:.3g}, float32): it is written there as {'-' if value < 0 else ''}inf (this once said for "
        f"{name!r}); the history and the log file keep the exact value"
    )


def run_folder(folder: Path, label: str) -> Path:
    """A folder of its own for a run in ``folder``: its label with nothing that leaves the folder
    (``../x``, ``a/b``), at most :data:`RUN_NAME_CHARS` characters, ``-2``, ``-3``... after a name
    another run took."""
    name = re.sub(r"[^\w.+=@ -]", "_", label)[:RUN_NAME_CHARS].strip(" .") or "run"
    path, number = folder / name, 1
    while path.exists():
        number += 1
        path = folder / f"{name}-{number}"
    return path


def check_folder(name: str, value: Any) -> Path:
    """A folder to write event files into: a path that is a directory, or nothing yet."""
    folder = check_path(name, value)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{name!r} {str(folder)!r} is a file: TensorBoard writes into a folder")
    return folder


def write_tensorboard(history: Any, folder: str | Path) -> Path:
    """Write the whole history as one new event file in ``folder`` (created); returns the file."""
    folder = check_folder("folder", folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = events.new_file_name(folder)
    names = [name for name in history.column_names if name != "epoch"]
    for name in names:
        column = np.asarray(history[name], dtype=np.float64)
        beyond = np.flatnonzero(np.isfinite(column) & (np.abs(column) > FLOAT32_MAX))
        if beyond.size:
            warnings.warn(float32_sentence(name, float(column[beyond[0]])), stacklevel=user_stacklevel())
    with open(path, "wb") as stream:
        stream.write(events.version_event())
        stream.write(step_events(history.step_train, history.step_epoch, 0))
        for row, epoch in enumerate(history.epochs):
            stream.write(epoch_event(int(epoch), {name: float(history[name][row]) for name in names}))
        for event in history.events:
            stream.write(event_text(event))
    return path


def _say_damage(path: Path, values: int, damaged: int, unframed: int | None) -> None:
    """One warning for what a damaged event file lost, and what was still read from it."""
    lost = [f"{damaged} record(s) fail their checksum and were left out"] if damaged else []
    if unframed is not None:
        size = path.stat().st_size
        lost.append(
            f"a record's length check fails at byte {unframed}, so its last {size - unframed} bytes cannot be "
            "read (a length that cannot be trusted leaves nothing after it to frame)"
        )
    warnings.warn(
        f"losswidget: the event file {str(path)!r} is damaged: {'; '.join(lost)}; the other {values} values are read",
        stacklevel=user_stacklevel(),
    )


def read_tensorboard(folder: str | Path, history_class: Any, tags: Mapping[str, str] | None = None) -> Any:
    """The run in ``folder``'s event files (not its subfolders: each of those is a run of its own)."""
    folder = check_path("folder", folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"'folder' {str(folder)!r} is not a folder of TensorBoard event files")
    files = events.event_files(folder)
    if not files:
        runs = sorted(str(path.relative_to(folder)) for path in folder.iterdir() if path.is_dir())
        runs = [run for run in runs if events.event_files(folder / run)]
        where = f": its runs are in {', '.join(repr(run) for run in runs)}; give one of those folders" if runs else ""
        raise FileNotFoundError(f"no TensorBoard event files in {str(folder)!r}{where}")
    if tags is not None and not (isinstance(tags, Mapping) and all(isinstance(k, str) for k in tags)):
        raise TypeError(f"'tags' must map TensorBoard tags to names, e.g. {{'eval/loss': 'val'}}: {tags!r}")
    names = {tag: name for name, tag in TAGS.items()} | dict(tags or {})
    per_epoch: dict[int, dict[str, float]] = {}
    step_losses: dict[int, float] = {}
    step_epochs: dict[int, int] = {}
    for path in files:
        scalars, damaged, unframed = events.read_event_file(path)
        if damaged or unframed is not None:
            _say_damage(path, len(scalars), damaged, unframed)
        for scalar in scalars:
            if scalar.tag == STEP_TAG:
                step_losses[scalar.step] = scalar.value
            elif scalar.tag == EPOCH_TAG:
                step_epochs[scalar.step] = int(scalar.value)
            elif scalar.step >= 0:
                per_epoch.setdefault(scalar.step, {})[names.get(scalar.tag, scalar.tag)] = scalar.value
    history = history_class(folder.name)
    for epoch in sorted(per_epoch):
        _log_valid(history, epoch, per_epoch[epoch])
    steps = sorted(step for step in step_losses if step_epochs.get(step, -1) >= 0)
    if steps:
        history.log_steps([step_losses[s] for s in steps], [step_epochs[s] for s in steps])
    return history


def _log_valid(history: Any, epoch: int, values: dict[str, float]) -> None:
    """Log the values whose names a history takes (another tool's tag may be reserved, like 'step')."""
    try:
        history.log_epoch(epoch, values)
    except (TypeError, ValueError):
        for name, value in values.items():
            try:
                history.log_epoch(epoch, {name: value})
            except (TypeError, ValueError):
                continue
