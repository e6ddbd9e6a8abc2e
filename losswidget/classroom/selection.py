"""The class view's selected students: one owner for ``Classroom(select=...)``, :meth:`Classroom.select`
and a click on the chart, so the code and the click never disagree about who is selected.

A click arrives on the comm's thread while the watch thread draws: the choice is swapped whole under
a lock, and whoever draws reads it once per frame.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable

__all__ = ["Selection"]

NAMES_SAID = 20  # students named in an error about an unknown one


class Selection:
    """The names of the students selected (as the table names them), in the order chosen."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._names = tuple(dict.fromkeys(str(name) for name in names))
        self._lock = threading.Lock()

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    def replace(self, names: Iterable[str], known: Collection[str]) -> None:
        """Select exactly ``names``, each one of the ``known`` students (else a ValueError naming it and
        them, and the selection as it was)."""
        names = tuple(names)
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"'select' must be given student names (str): {name!r:.80}")
            if name not in known:
                said = ", ".join(repr(each) for each in sorted(known)[:NAMES_SAID])
                more = f" and {len(known) - NAMES_SAID} more" if len(known) > NAMES_SAID else ""
                students = f"students: {said}{more}" if known else "no students yet"
                raise ValueError(f"'select' must name a student of this class: {name!r:.80} ({students})")
        with self._lock:
            self._names = tuple(dict.fromkeys(names))

    def click(self, student: str | None) -> None:
        """A click: a student's line selects them alone, or drops them when already selected; the
        background (``None``) clears."""
        with self._lock:
            if student is None:
                self._names = ()
            elif student in self._names:
                self._names = tuple(name for name in self._names if name != student)
            else:
                self._names = (student,)
