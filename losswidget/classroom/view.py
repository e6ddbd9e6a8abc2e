"""A class in one chart: every student's run, the groups' run-to-run spread, the sentence to read aloud.

>>> room = lw.classroom("/shared/lab3", group_by="weight_decay")   # doctest: +SKIP
>>> room                                                             # the live chart, table, sentence

Reads a class folder as it grows (:mod:`losswidget.classroom.folder`), a class on a trackio server
the same way (a link, ``lw.classroom("http://host:7860/?project=lab3")``: :mod:`.server_read`), a class
split between the two (a list of both: :mod:`.sources`), saved runs after class (the same folder or
class, finished), or histories of one notebook (:meth:`Classroom.from_histories`: several seeds for
self-study). :meth:`poll` reads what is new;
in a notebook :meth:`watch` polls on a timer thread and redraws; outside one, ``print(room)`` is
the table and the sentence as text. Hovering a line names its student; clicking it (or
:meth:`Classroom.select`) shows their training curve beside it.
"""

from __future__ import annotations

import html
import math
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from losswidget.classroom.chart import ClassFrame, caption, class_frame
from losswidget.classroom.folder import SILENT_AFTER, Row, compared, history_rows
from losswidget.classroom.selection import Selection
from losswidget.classroom.server_link import ServerLink
from losswidget.classroom.sources import Sources
from losswidget.classroom.table import page, table_of, text_table
from losswidget.core.groups import MEANING, Group, class_groups, group_label, sentence
from losswidget.core.history import History
from losswidget.core.validate import check_float, check_int

__all__ = ["Classroom", "classroom"]

MAX_RUNS = 60  # past this many runs the chart draws the groups' bands and the selected students only


class Classroom:
    """The teacher's view of a class folder, a class server's link, or a list of both (``folder``: a
    class split between the lab's shared folder and the server), grouped by one setting
    (``group_by``). ``select``: students drawn on top with their training curves (and even past
    ``max_runs``), named before they send (:meth:`select` checks them against the class)."""

    def __init__(
        self,
        folder: str | os.PathLike | Iterable[str | os.PathLike] | None,
        group_by: str | None = None,
        *,
        max_runs: int = MAX_RUNS,
        select: Iterable[str] = (),
        silent_after: float = SILENT_AFTER,
    ) -> None:
        if group_by is not None and (not isinstance(group_by, str) or not group_by):
            raise TypeError(f"'group_by' must be a setting's name (a non-empty str) or None: {group_by!r:.80}")
        self.group_by = group_by
        self.max_runs = check_int("max_runs", max_runs, minimum=1)
        if isinstance(select, str) or not isinstance(select, Iterable):
            raise TypeError(f"'select' must be a list of student names: {select!r:.80}")
        self._selection = Selection(select)
        silent_after = check_float("silent_after", silent_after, minimum=0.0)
        self._sources = Sources(folder, silent_after)
        # the first folder and the first link given (a class split between the two has one of each)
        self.folder: Path | None = self._sources.folders[0] if self._sources.folders else None
        self.link: ServerLink | None = self._sources.links[0] if self._sources.links else None
        self._saved: list[Row] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()  # a redraw asked for (a click), or the stop
        self._drawing = threading.Lock()
        self._thread: threading.Thread | None = None
        self._chart = None
        self._handle = None  # the notebook output showing this view, once displayed
        self._colors: dict[str, str] = {}  # each group's colour, kept as groups arrive
        self._rows: list[Row] = []
        self._others: list[str] = []
        self.poll()

    @classmethod
    def from_histories(
        cls,
        histories: Mapping[str, History],
        settings: Mapping[str, Mapping[str, Any]] | None = None,
        group_by: str | None = None,
        **options: Any,
    ) -> Classroom:
        """Runs of this notebook (``{"seed 0": history, ...}``) as a class: ``settings[name]`` is each
        run's settings (group by one of them), e.g. several seeds of two weight decays for self-study."""
        rows = history_rows(histories, settings)
        room = cls(None, group_by, **options)
        room._saved = rows
        room.poll()
        return room

    # -- reading -------------------------------------------------------------------------------

    def poll(self) -> bool:
        """Read what the class's folders and servers gained since the last poll; True if anything changed."""
        with self._lock:
            changed = self._sources.poll()
            rows, others = self._sources.rows()
            rows = self._saved + rows
            rows.sort(key=lambda row: (math.isnan(row.best), row.best if not math.isnan(row.best) else 0.0))
            changed |= [(r.student, r.best, r.state) for r in rows] != [
                (r.student, r.best, r.state) for r in self._rows
            ]
            self._rows, self._others = rows, others
        return changed

    refresh = poll

    def rows(self) -> list[Row]:
        """Every run, lowest best validation loss first (runs without one last)."""
        return list(self._rows)

    def label(self, row: Row) -> str:
        return group_label(self.group_by, row.settings) if self.group_by else "all runs"

    def groups(self) -> list[Group]:
        return self._class()[0]

    def _class(self, rows: list[Row] | None = None) -> tuple[list[Group], int | None]:
        """The groups of ``rows`` (default: the runs compared), each with its runs' values at the last
        epoch every one of them reached, and that epoch."""
        rows = compared(self._rows)[0] if rows is None else rows
        return class_groups((self.label(row), row.epochs, row.val, row.best) for row in rows)

    def sentence(self) -> str:
        """What a teacher reads aloud (:func:`losswidget.core.groups.sentence`)."""
        kept, left_out = compared(self._rows)
        said = sentence(*self._class(kept), [row.student for row in left_out])
        running = sum(row.state == "running" for row in self._rows)
        if running:
            runs = "1 run is" if running == 1 else f"{running} runs are"
            said += f" {runs} still training: the epoch compared moves on as they train."
        return said

    def frame(self) -> ClassFrame:
        rows = self.rows()
        return class_frame(rows, [self.label(row) for row in rows], self.max_runs, self._selection.names, self._colors)

    def problems(self) -> list[str]:
        """A sentence per file that is not a run, and per run whose file had something odd."""
        said = list(self._others)
        for row in self._rows:
            said += [f"{row.student} ({row.source}): {problem}" for problem in row.problems]
        return said

    # -- text ----------------------------------------------------------------------------------

    def table(self) -> list[list[str]]:
        return table_of(self._rows)

    def summary(self) -> str:
        """The table, the sentence and what went wrong, as plain text (a terminal's view)."""
        lines = [f"A class of {len(self._rows)} runs ({self._sources.shown}):", *text_table(self.table())]
        lines += ["", self.sentence(), MEANING] + [f"Note: {problem}" for problem in self.problems()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def html(self) -> str:
        return page(self.sentence(), self.table(), self.problems(), self._selection.names)

    # -- the selected students -----------------------------------------------------------------

    @property
    def selected(self) -> tuple[str, ...]:
        """The students drawn on top with their training curves (``select=``, :meth:`select`, a click)."""
        return self._selection.names

    def select(self, *students: str) -> Classroom:
        """Draw ``students`` (as the table names them) on top with their training curves dashed beside
        and mark their rows, as clicking a line does; ``select()`` clears."""
        self._selection.replace(students, {row.student for row in self._rows})
        self._redraw()
        return self

    def _clicked(self, student: str | None) -> None:
        """A click on the chart, on the comm's thread: it only records the choice and asks for a redraw."""
        self._selection.click(student)
        self._redraw()

    def _redraw(self) -> None:
        if self._thread is not None:
            self._wake.set()  # the watch thread draws
        elif self._chart is not None:
            self.draw()
            if self._handle is not None:
                self._handle.update(self._bundle(), raw=True)

    # -- the notebook view ---------------------------------------------------------------------

    def widget(self):
        """The chart, the sentence and the table in one ipywidgets box (made once)."""
        if self._chart is None:
            import ipywidgets as widgets

            from losswidget.classroom.chart import ClassChart

            chart = ClassChart(title=self._title(), on_click=self._clicked)
            self._caption, self._html = widgets.HTML(), widgets.HTML()
            self._caption.add_class("losswidget-class-caption")
            self._chart = chart
            self._box = widgets.VBox([chart.figure, self._caption, self._html])
            self._box.add_class("losswidget-classroom")
            self.draw()
        return self._box

    def draw(self) -> None:
        if self._chart is not None:
            with self._drawing:  # the watch thread and a click's redraw, one at a time
                frame = self.frame()
                self._chart.draw(frame)
                self._caption.value = f"<i>{html.escape(caption(frame), quote=False)}</i>"
                self._html.value = self.html()

    def svg(self) -> str:
        """The chart, the sentence and what ± means as a static SVG image (:mod:`losswidget.classroom.svg`)."""
        from losswidget.classroom.svg import render_class_svg

        frame = self.frame()
        said = caption(frame, live=False)
        return render_class_svg(frame, self._title(), [said] * bool(said) + [self.sentence(), MEANING])

    def _title(self) -> str:
        return f"validation loss by {self.group_by}" if self.group_by else "validation loss"

    def _bundle(self) -> dict:
        """The live chart and, for where widgets don't run, its image and the table as text."""
        return {
            "application/vnd.jupyter.widget-view+json": {
                "version_major": 2,
                "version_minor": 0,
                "model_id": self.widget().model_id,
            },
            "image/svg+xml": self.svg(),
            "text/plain": self.summary(),
        }

    def _ipython_display_(self) -> None:
        from IPython.display import display

        self._handle = display(self._bundle(), raw=True, display_id=True)

    def watch(self, interval: float = 2.0) -> Classroom:
        """Poll every ``interval`` seconds on a thread and redraw on a change, until :meth:`stop`."""
        interval = check_float("interval", interval, minimum=0.05)
        self.stop()
        self._stop.clear()
        self._wake.clear()
        self._thread = threading.Thread(target=self._run, args=(interval,), name="losswidget-classroom", daemon=True)
        self._thread.start()
        return self

    def _run(self, interval: float) -> None:
        while True:
            self._wake.wait(interval)
            if self._stop.is_set():
                return
            asked = self._wake.is_set()  # a click: drawn even if nothing was read
            if asked:
                self._wake.clear()
            try:
                if self.poll() or asked:
                    self.draw()
            except Exception as error:  # the view goes on: the next poll tries again
                self._others = [f"the view could not read the folder ({type(error).__name__}: {error})"]

    def stop(self) -> None:
        """Stop :meth:`watch`'s thread (the view stays, and :meth:`poll` still reads). Shown in a
        notebook, the view is read and drawn once more and its static image becomes the chart as it is
        now (what a saved notebook shows on GitHub)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10.0)
            self._thread = None
        if self._handle is not None:
            self.poll()
            self.draw()
            self._handle.update(self._bundle(), raw=True)


def classroom(
    folder: str | os.PathLike | Iterable[str | os.PathLike],
    group_by: str | None = None,
    *,
    watch: bool = True,
    **options: Any,
) -> Classroom:
    """The teacher's live view of ``folder`` (or a class server's link, or a list of both) grouped by
    ``group_by``, polling on a timer thread (``watch=False``: read with :meth:`Classroom.poll`)."""
    room = Classroom(folder, group_by, **options)
    return room.watch() if watch else room
