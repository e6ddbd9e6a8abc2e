"""TensorBoard event files, written and read without TensorFlow, tensorboardX or protobuf.

An event file (``events.out.tfevents.<time>.<host>.<pid>.<n>``) is a sequence of TFRecords — a
little-endian uint64 length, its masked CRC-32C, the bytes, their masked CRC-32C — each holding one
``Event`` protocol buffer: ``wall_time`` (field 1, double), ``step`` (2, int64), ``file_version``
(3, the first record's "brain.Event:2") or a ``Summary`` (5) of ``Value``s: ``tag`` (1) and
``simple_value`` (2, float). That small subset is all scalars need, so it is written here by hand:
TensorBoard, ``torch.utils.tensorboard`` and tensorboardX read and write the same bytes (the tests
read ours with TensorBoard's own reader, and read theirs with ours).

Writing is vectorised: the step losses of one flush share their wall time and differ only in the
step's varint and the values' four bytes, so a batch of records is laid out as one byte matrix, and
each record's CRC is the constant part's (once) xored with one table lookup per varying byte
(a CRC is linear), not a step per byte in Python.

Reading accepts ``simple_value`` and the tensor form that TensorFlow 2's ``tf.summary.scalar``
writes (a float or double ``TensorProto``, in ``float_val``/``double_val`` or ``tensor_content``).
"""

from __future__ import annotations

import math
import os
import socket
import struct
import time
from collections.abc import Iterator
from itertools import count, pairwise
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from losswidget.core.crc32c import crc32c, crc32c_each, crc32c_rows, masked

PREFIX = "events.out.tfevents."
FILE_VERSION = b"brain.Event:2"
_serial = count(1)


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # int64 as protobuf writes it (a negative step takes ten bytes)
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _record(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked(crc32c(header))) + data + struct.pack("<I", masked(crc32c(data)))


def as_float32(values: Any) -> np.ndarray:
    """float32, as an event file holds numbers: beyond its range (3.4e38) is ±inf, never an error."""
    with np.errstate(over="ignore"):
        return np.asarray(values, dtype=np.float64).astype("<f4")


def _float32_bytes(value: float) -> bytes:
    try:
        return struct.pack("<f", value)
    except OverflowError:  # beyond float32's range: inf, as a float32 cast makes it
        return struct.pack("<f", math.copysign(math.inf, value))


def _value(tag: str, value: float) -> bytes:
    return _field(1, tag.encode()) + b"\x15" + _float32_bytes(value)  # 0x15: field 2, 32-bit


def scalar_event(step: int, values: dict[str, float], wall_time: float | None = None) -> bytes:
    """One TFRecord: an Event at ``step`` with one scalar per tag."""
    summary = b"".join(_field(1, _value(tag, value)) for tag, value in values.items())
    event = b"\x09" + struct.pack("<d", time.time() if wall_time is None else wall_time)
    return _record(event + b"\x10" + _varint(step) + _field(5, summary))


def version_event(wall_time: float | None = None) -> bytes:
    event = b"\x09" + struct.pack("<d", time.time() if wall_time is None else wall_time)
    return _record(event + _field(3, FILE_VERSION))


def step_events(tag: str, steps: np.ndarray, values: np.ndarray, extra: dict[str, np.ndarray] | None = None) -> bytes:
    """TFRecords for many steps at once (one wall time): ``tag`` at each of ``steps``, with the
    ``extra`` tags' values in the same Event (e.g. the epoch each step belongs to)."""
    steps = np.asarray(steps, dtype=np.int64)
    columns = {name: as_float32(column) for name, column in {tag: values, **(extra or {})}.items()}
    wall = b"\x09" + struct.pack("<d", time.time())
    # Each Value is tag bytes + 0x15 + 4 value bytes: fixed length per tag, so only the step's varint
    # changes a record's length; a run of records of one length is laid out as one matrix.
    widths = np.ones(steps.size, dtype=np.int64)
    for limit in range(1, 10):
        widths += steps >= (1 << (7 * limit))
    starts = [0, *(np.flatnonzero(np.diff(widths)) + 1), steps.size]
    return b"".join(
        _step_block(wall, int(widths[a]), steps[a:b], {name: column[a:b] for name, column in columns.items()})
        for a, b in pairwise(starts)
        if b > a
    )


def _step_block(wall: bytes, width: int, steps: np.ndarray, columns: dict[str, np.ndarray]) -> bytes:
    values = [_field(1, tag.encode()) + b"\x15" for tag in columns]  # each Value's bytes before its float
    value_len = [len(v) + 4 for v in values]
    summary_len = sum(len(_varint(n)) + 1 + n for n in value_len)  # 0x0a, length, value
    head = wall + b"\x10"
    summary_head = b"\x2a" + _varint(summary_len)
    data_len = len(head) + width + len(summary_head) + summary_len
    n = steps.size
    data = np.empty((n, data_len), dtype=np.uint8)
    data[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    at = len(head)
    varying = list(range(at, at + width))  # the step's varint and the values' bytes; the rest is the same in every row
    remaining = steps.astype(np.uint64)
    for i in range(width):
        byte = (remaining & np.uint64(0x7F)).astype(np.uint8)
        remaining >>= np.uint64(7)
        data[:, at + i] = byte | (np.uint8(0x80) if i < width - 1 else np.uint8(0))
    at += width
    data[:, at : at + len(summary_head)] = np.frombuffer(summary_head, dtype=np.uint8)
    at += len(summary_head)
    for prefix, length, column in zip(values, value_len, columns.values()):
        framing = b"\x0a" + _varint(length) + prefix
        data[:, at : at + len(framing)] = np.frombuffer(framing, dtype=np.uint8)
        at += len(framing)
        data[:, at : at + 4] = column.astype("<f4").view(np.uint8).reshape(n, 4)
        varying += range(at, at + 4)
        at += 4
    header = struct.pack("<Q", data_len)
    out = np.empty((n, 12 + data_len + 4), dtype=np.uint8)
    out[:, :8] = np.frombuffer(header, dtype=np.uint8)
    out[:, 8:12] = np.frombuffer(struct.pack("<I", masked(crc32c(header))), dtype=np.uint8)
    out[:, 12 : 12 + data_len] = data
    out[:, 12 + data_len :] = masked(crc32c_rows(data, tuple(varying))).astype("<u4").view(np.uint8).reshape(n, 4)
    return out.tobytes()


def new_file_name(folder: Path) -> Path:
    """A fresh event file's name, as TensorBoard's writers name them (it only reads 'tfevents' files)."""
    return folder / f"{PREFIX}{int(time.time())}.{socket.gethostname()}.{os.getpid()}.{next(_serial)}"


# -- reading -------------------------------------------------------------------------------


class Scalar(NamedTuple):
    step: int
    tag: str
    value: float
    wall_time: float


def event_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if PREFIX in path.name and path.is_file())


def read_scalars(path: Path) -> Iterator[Scalar]:
    """Every scalar in one event file, in file order (records that fail their checksum left out:
    :func:`read_event_file` counts them)."""
    yield from read_event_file(path)[0]


def read_event_file(path: Path) -> tuple[list[Scalar], int, int | None]:
    """Every scalar in one event file, in file order; how many records failed their data checksum (a
    damaged file: a flipped bit must not read back as 1.7e38) and were left out; and the byte where
    a record's length check failed, if one did (None when none did). A torn last record (a writer
    killed mid-write) ends the file quietly. A length check failing on the first record raises
    ``ValueError`` (not an event file); on a later one, reading stops there, as TensorBoard's own
    reader does: nothing after it can be framed, and everything before it is kept."""
    data = path.read_bytes()
    starts, lengths, stored = [], [], []
    at, unframed = 0, None
    while at + 12 <= len(data):
        header = data[at : at + 12]
        length, length_crc = struct.unpack("<QI", header)
        if masked(crc32c(header[:8])) != length_crc:
            if at == 0:
                raise ValueError(f"{path}: not a TensorBoard event file (a record's length check fails)")
            unframed = at
            break
        if at + 12 + length + 4 > len(data):
            break
        starts.append(at + 12)
        lengths.append(length)
        stored.append(struct.unpack_from("<I", data, at + 12 + length)[0])
        at += 12 + length + 4
    good = _checksums_hold(np.frombuffer(data, dtype=np.uint8), np.array(starts, dtype=np.int64), lengths, stored)
    view = memoryview(data)
    scalars = [
        scalar
        for start, length, ok in zip(starts, lengths, good.tolist())
        if ok
        for scalar in _event_scalars(view[start : start + length])
    ]
    return scalars, int(good.size - np.count_nonzero(good)), unframed


def _checksums_hold(data: np.ndarray, starts: np.ndarray, lengths: list[int], stored: list[int]) -> np.ndarray:
    """Whether each record's data matches its stored masked CRC-32C: the records of one length at once."""
    lengths_array, stored_array = np.array(lengths, dtype=np.int64), np.array(stored, dtype=np.uint32)
    good = np.zeros(starts.size, dtype=bool)
    for length in np.unique(lengths_array).tolist():
        same = np.flatnonzero(lengths_array == length)
        for rows in np.array_split(same, -(-same.size * length // 2**22) or 1):  # ~4 MB of bytes at a time
            matrix = data[starts[rows, None] + np.arange(length, dtype=np.int64)]
            good[rows] = masked(crc32c_each(matrix)) == stored_array[rows]
    return good


def _fields(data: memoryview) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) of a protocol buffer message."""
    at, end = 0, len(data)
    while at < end:
        key, at = _read_varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _read_varint(data, at)
        elif wire == 1:
            value, at = data[at : at + 8], at + 8
        elif wire == 2:
            length, at = _read_varint(data, at)
            value, at = data[at : at + length], at + length
        elif wire == 5:
            value, at = data[at : at + 4], at + 4
        else:
            raise ValueError(f"unsupported protocol buffer wire type {wire}")
        yield number, wire, value


def _read_varint(data: memoryview, at: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[at]
        at += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, at
        shift += 7


def _event_scalars(event: memoryview) -> Iterator[Scalar]:
    step, wall_time, summary = 0, 0.0, None
    for number, wire, value in _fields(event):
        if number == 1 and wire == 1:
            wall_time = struct.unpack("<d", value)[0]
        elif number == 2 and wire == 0:
            step = value - (1 << 64) if value >= 1 << 63 else value
        elif number == 5 and wire == 2:
            summary = value
    if summary is None:
        return
    for number, wire, value in _fields(summary):
        if number == 1 and wire == 2:
            scalar = _value_scalar(value)
            if scalar is not None:
                yield Scalar(step, scalar[0], scalar[1], wall_time)


def _value_scalar(value: memoryview) -> tuple[str, float] | None:
    tag, number_found = None, None
    for number, wire, payload in _fields(value):
        if number == 1 and wire == 2:
            tag = bytes(payload).decode("utf-8", "replace")
        elif number == 2 and wire == 5:
            number_found = struct.unpack("<f", payload)[0]
        elif number == 8 and wire == 2:
            number_found = _tensor_scalar(payload)
    return None if tag is None or number_found is None else (tag, float(number_found))


def _tensor_scalar(tensor: memoryview) -> float | None:
    """The one number of a scalar float or double TensorProto (TensorFlow 2's summaries)."""
    dtype, content, numbers = 0, None, []
    for number, wire, payload in _fields(tensor):
        if number == 1 and wire == 0:
            dtype = payload
        elif number == 4 and wire == 2:
            content = bytes(payload)
        elif number == 5:  # float_val, packed or not
            numbers += [v for (v,) in struct.iter_unpack("<f", bytes(payload))]
        elif number == 6:  # double_val
            numbers += [v for (v,) in struct.iter_unpack("<d", bytes(payload))]
    if numbers:
        return numbers[0]
    if content is not None and dtype in (1, 2) and len(content) == (4 if dtype == 1 else 8):
        return struct.unpack("<f" if dtype == 1 else "<d", content)[0]
    return None
