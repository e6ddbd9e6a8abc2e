"""What the terminal line needs from its stream: display columns, ASCII, and writes that never raise.

A terminal shows an East Asian wide or fullwidth character (CJK, most emoji) in two columns and a
combining mark in none, so a line is measured in columns, not characters (as ``wcwidth`` does).
A stream whose encoding cannot show the line's symbols (``PYTHONIOENCODING=ascii``, a Latin-1
console) gets them in ASCII. A stream that fails (a pipe closed by ``| head``, ``/dev/full``, a closed
file descriptor, an object with no ``write``) turns the display off with one warning: progress text
is never worth a training run (tqdm's rule, STYLE.md "A display never costs a run").
"""

from __future__ import annotations

import functools
import os
import sys
import unicodedata
import warnings
from collections.abc import Callable
from typing import Any

# Our symbols in ASCII (the bar's blocks and the sparkline are drawn in ASCII by the meter itself).
_ASCII = str.maketrans(
    {
        "·": "|",
        "…": "...",
        "–": "-",
        "—": "--",
        "−": "-",
        "±": "+/-",
        "×": "x",
        "→": "->",
        "≥": ">=",
        "≤": "<=",
        "≈": "~",
        "√": "sqrt",
        "σ": "sd",
        "◆": "*",
        "■": "[]",
        "█": "#",
    }
)
_PROBE = "▁█·–…"  # if the stream's encoding has these, it has the line


def columns(text: str) -> int:
    """Terminal columns of ``text``: two for a wide or fullwidth character (and for a narrow one
    turned into an emoji by U+FE0F), none for a combining mark or a format character."""
    if text.isascii():
        return len(text)
    return sum(map(_char_columns, text))


@functools.lru_cache(maxsize=4096)  # a line is redrawn ten times a second from a few dozen characters
def _char_columns(char: str) -> int:
    if char == "\ufe0f":  # emoji presentation: the character before it takes two columns
        return 1
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def clip(text: str, width: int, ellipsis: str = "…") -> str:
    """``text`` cut to at most ``width`` columns, ending in ``ellipsis`` where it was cut."""
    if columns(text) <= width:
        return text
    room = width - columns(ellipsis)
    if room < 0:
        return ""
    kept, used = [], 0
    for char in text:
        used += _char_columns(char)
        if used > room:
            break
        kept.append(char)
    return "".join(kept) + ellipsis


def pad(text: str, width: int) -> str:
    """``text`` followed by spaces up to ``width`` columns."""
    return text + " " * max(width - columns(text), 0)


def to_ascii(text: str, encoding: str | None) -> str:
    """``text`` with our symbols in ASCII and anything ``encoding`` cannot show as ``?``."""
    text = text.translate(_ASCII)
    try:
        return text.encode(encoding or "ascii", "replace").decode(encoding or "ascii")
    except LookupError:
        return text.encode("ascii", "replace").decode("ascii")


def can_show_symbols(stream: Any) -> bool:
    """Whether ``stream``'s declared encoding has the line's symbols (True when it declares none)."""
    encoding = getattr(stream, "encoding", None)
    if not isinstance(encoding, str):
        return True
    try:
        _PROBE.encode(encoding)
    except (UnicodeError, LookupError):
        return False
    return True


class SafeStream:
    """Writes to a stream (``sys.stdout`` when none is given, looked up at each write); the first
    failure turns it off with one warning and every later write is a no-op."""

    def __init__(self, stream: Any = None, warn: Callable[[str], None] | None = None) -> None:
        self._stream = stream
        self._warn = warn  # how its one warning is said (the run's: at the user's line); None: here
        self.off = False
        self._ascii, self._ascii_for = False, None  # whether the stream _ascii_for gets ASCII

    @property
    def stream(self) -> Any:
        return self._stream if self._stream is not None else sys.stdout

    @property
    def ascii(self) -> bool:
        """Whether the stream gets ASCII (its encoding cannot show the line's symbols); asked again
        when ``sys.stdout`` is replaced."""
        stream = self.stream
        if stream is not self._ascii_for:
            self._ascii, self._ascii_for = not can_show_symbols(stream), stream
        return self._ascii

    def is_terminal(self) -> bool:
        try:
            return not self.off and bool(self.stream.isatty())
        except Exception:  # no isatty, a closed stream: plain lines
            return False

    def write(self, text: str) -> bool:
        """Write ``text`` and flush; False (and off from now on) when the stream failed."""
        if self.off:
            return False
        stream = self.stream
        try:
            try:
                stream.write(self._encodable(text, stream))
            except UnicodeEncodeError:  # the encoding said nothing, or not the truth: ASCII from now on
                if self._ascii:
                    raise
                self._ascii = True
                stream.write(self._encodable(text, stream))
            flush = getattr(stream, "flush", None)  # a stream may have only write()
            if callable(flush):
                flush()
        except Exception as error:  # any failure of the stream: the display, never the run
            self._turn_off(stream, error)
            return False
        return True

    def _encodable(self, text: str, stream: Any) -> str:
        return to_ascii(text, getattr(stream, "encoding", None)) if self.ascii else text

    def _turn_off(self, stream: Any, error: Exception) -> None:
        self.off = True
        where = "standard output" if stream is sys.stdout or stream is sys.__stdout__ else "its stream"
        if stream is None:
            cause = "there is no standard output (sys.stdout is None, as under pythonw or with '>&-')"
        elif isinstance(error, BrokenPipeError):
            _discard_into_devnull(stream)
            cause = f"the reader of {where} has gone (a pipe closed early, as by '| head')"
        else:
            cause = f"writing to {where} failed ({type(error).__name__}: {error})"
        message = (
            f"losswidget: the progress text is off: {cause}; training goes on, the history keeps every "
            "value. Send the output somewhere writable to see it, or pass display='none' to draw nothing"
        )
        if self._warn is not None:
            self._warn(message)
        else:
            warnings.warn(message, stacklevel=2)


def _discard_into_devnull(stream: Any) -> None:
    """Point a pipe whose reader has gone at /dev/null, as the Python docs advise for SIGPIPE: what is
    still buffered for it, and any later print, could never be read, and would fail the interpreter's
    final flush (exit status 120) or the user's next print."""
    if stream is not sys.stdout and stream is not sys.__stdout__:
        return
    try:
        fd = stream.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)
    except Exception:  # no file descriptor: nothing is buffered outside the stream object
        pass
