"""The class view's words as text and HTML (pure): the table of runs, what ± means, and the page under
the chart with the sentence, the table (the selected students' rows marked) and the notes."""

from __future__ import annotations

import html
import math
from collections.abc import Collection, Sequence

from losswidget.classroom.folder import Row

__all__ = ["page", "table_of", "text_table"]

HEADER = ["student", "settings", "best epoch", "best val", "stop", "diagnosis", "state"]
MARKED = "background:#fff3c4;font-weight:bold"  # a selected student's row


def table_of(rows: Sequence[Row]) -> list[list[str]]:
    """The header, then a line of cells per run."""
    body = [
        [
            row.student,
            ", ".join(f"{key}={value}" for key, value in row.settings.items()) or "-",
            "-" if row.best_epoch is None else str(row.best_epoch),
            "-" if math.isnan(row.best) else f"{row.best:.4g}",
            row.stop,
            row.diagnosis,
            row.state,
        ]
        for row in rows
    ]
    return [HEADER, *body]


def text_table(table: list[list[str]]) -> list[str]:
    """The table as lines of aligned columns."""
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in table]


def page(sentence: str, table: list[list[str]], problems: list[str], selected: Collection[str] = ()) -> str:
    """The sentence in bold, the table (the rows of the ``selected`` students marked), the notes."""
    head = "".join(f"<th style='text-align:left'>{html.escape(cell)}</th>" for cell in table[0])
    body = "".join(
        (f"<tr class='losswidget-selected' style='{MARKED}'>" if line[0] in selected else "<tr>")
        + "".join(f"<td>{html.escape(cell)}</td>" for cell in line)
        + "</tr>"
        for line in table[1:]
    )
    notes = "".join(f"<li>{html.escape(problem)}</li>" for problem in problems)
    return f"<p><b>{html.escape(sentence)}</b></p><table><tr>{head}</tr>{body}</table>" + (
        f"<ul>{notes}</ul>" if notes else ""
    )
