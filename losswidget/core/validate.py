"""Argument checks shared by the public entry points.

Messages name the argument, the value and what is allowed, e.g.
``'patience' must be >= 0: -1``.
"""

from __future__ import annotations

import math
import numbers
import os
import reprlib
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def check_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name!r} must be an int: {value!r} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name!r} must be >= {minimum}: {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name!r} must be <= {maximum}: {value}")
    return value


def check_float(name: str, value: Any, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name!r} must be a number: {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name!r} must be finite: {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name!r} must be >= {minimum}: {value}")
    return value


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name!r} must be one of {allowed}: {value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name!r} must be True or False: {value!r} ({type(value).__name__})")
    return value


def check_path(name: str, value: Any) -> Path:
    """``value`` as a Path: a string or an ``os.PathLike``; TypeError naming the argument otherwise."""
    if isinstance(value, str) and value:
        return Path(value)
    if isinstance(value, os.PathLike) and not isinstance(value, bytes):
        path = os.fspath(value)
        if isinstance(path, str):
            return Path(path)
    allowed = "a non-empty str or pathlib.Path"
    raise TypeError(f"{name!r} must be a file path ({allowed}): {reprlib.repr(value)} ({type(value).__name__})")


def check_regular_file(name: str, path: Any) -> bool:
    """True if ``path`` is an existing regular file, False if nothing is there. Anything else (a
    directory, a FIFO, a device, a socket, a symlink loop) raises, naming the argument: opening a
    FIFO would wait for a writer forever. Never opens the path."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    except OSError as error:  # a symlink loop, a name too long, no permission to look
        raise OSError(f"{name!r} {str(path)!r} cannot be used: {error.strerror or error}") from None
    if stat.S_ISREG(mode):
        return True
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{name!r} {str(path)!r} is a directory: give a file path inside it")
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    raise ValueError(f"{name!r} {str(path)!r} is {kind}, not a regular file: give a plain file path")


_PACKAGE = str(Path(__file__).resolve().parents[1])


def user_stacklevel() -> int:
    """The ``stacklevel`` that names the first caller outside losswidget, for a warning raised from
    code reached by several paths (a step, an epoch's end, a frame)."""
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level
