"""CRC-32C (Castagnoli), as TFRecords frame each record with it: one message at a time, or a batch of
equal-length messages that differ only in a few known columns (a flush's step records).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np


def _crc_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint32)
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1  # CRC-32C (Castagnoli), reflected
        table[byte] = crc
    return table


_TABLE = _crc_table()
_TABLE_LIST = [int(value) for value in _TABLE]


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE_LIST[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked(crc: Any) -> Any:
    """TFRecord's masked CRC (works on ints and on uint32 arrays)."""
    if isinstance(crc, np.ndarray):
        return ((crc >> np.uint32(15)) | (crc << np.uint32(17))) + np.uint32(0xA282EAD8)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def crc32c_rows(rows: np.ndarray, varying: tuple[int, ...]) -> np.ndarray:
    """CRC-32C of each row of a uint8 matrix whose rows differ only in the ``varying`` columns.

    A CRC is linear: for messages of one length, crc(template ^ delta) = crc(template) ^ L(delta),
    where L is the CRC register run from 0 with no final xor. So each row's CRC is the template's
    (the first row with its varying bytes zeroed: one CRC in Python) xored with one table lookup per
    varying byte, instead of one step per byte of every row."""
    template = rows[0].copy()
    template[list(varying)] = 0
    crc = np.full(rows.shape[0], crc32c(template.tobytes()), dtype=np.uint32)
    for column, table in zip(varying, _position_tables(rows.shape[1], varying)):
        crc ^= table[rows[:, column]]
    return crc


@functools.lru_cache(maxsize=64)
def _position_tables(length: int, varying: tuple[int, ...]) -> list[np.ndarray]:
    """For each varying column j, L of a message of ``length`` bytes that is zero but for a byte v at
    j, for all 256 v: v's table entry run through the length - 1 - j zero bytes after it."""
    shifted = [_TABLE.copy()]  # shifted[k][v]: the register k zero bytes after v
    for _ in range(length - 1 - min(varying)):
        state = shifted[-1]
        shifted.append(_TABLE[state & 0xFF] ^ (state >> np.uint32(8)))
    return [shifted[length - 1 - column] for column in varying]


def crc32c_each(rows: np.ndarray) -> np.ndarray:
    """CRC-32C of each row of a uint8 matrix (records of one length, read back): one table step per
    column, over all rows at once."""
    crc = np.full(rows.shape[0], 0xFFFFFFFF, dtype=np.uint32)
    for column in rows.T:
        crc = _TABLE[(crc ^ column) & np.uint32(0xFF)] ^ (crc >> np.uint32(8))
    return crc ^ np.uint32(0xFFFFFFFF)
