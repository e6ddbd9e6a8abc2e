"""Where a class is read from: one or several class folders and class servers' links, followed together.

A class can be split: students on the lab's machines write to the shared folder, students on Colab or
their laptops send to the class server. ``lw.classroom(["/shared/lab3", "http://host:7860/?project=lab3"])``
follows both, and every run is one row of one table, whichever way it came (its ``source`` says which).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from losswidget.classroom.folder import FolderReader, Row
from losswidget.classroom.server_link import ServerLink, is_link, parse_link
from losswidget.classroom.server_read import ServerReader
from losswidget.core.validate import check_path

__all__ = ["Sources"]

MAX_SOURCES = 16


class Sources:
    """The readers of ``where``: a folder, a class server's link, a list of them, or None (no source:
    runs of this notebook only)."""

    def __init__(self, where: Any, silent_after: float) -> None:
        if where is None:
            items: list[Any] = []
        elif isinstance(where, (str, os.PathLike)):
            items = [where]
        elif isinstance(where, Iterable) and not isinstance(where, (bytes, dict)):
            items = list(where)
            if not items:
                raise ValueError(
                    "'folder' must name at least one class folder or class server's link: got an empty list"
                )
            if len(items) > MAX_SOURCES:
                raise ValueError(f"'folder' may list up to {MAX_SOURCES} folders and links: got {len(items)}")
        else:
            allowed = "a folder, a class server's link, or a list of them"
            raise TypeError(f"'folder' must be {allowed}: {where!r:.80} ({type(where).__name__})")
        self.folders: list[Path] = []
        self.links: list[ServerLink] = []
        self.readers: list[FolderReader | ServerReader] = []
        self.names: list[str] = []  # each source as the view names it, in the order given
        seen: set[str] = set()
        for item in items:
            if is_link(item):
                link = parse_link(item, name="folder")
                key = f"{link.base} {link.project}"
                reader: FolderReader | ServerReader = ServerReader(link, silent_after)
                self.links.append(link)
                self.names.append(link.shown)
            else:
                folder = check_path("folder", item)
                if folder.exists() and not folder.is_dir():
                    raise NotADirectoryError(f"'folder' must be a folder (of students' .jsonl files): {str(folder)!r}")
                key = str(folder.resolve())
                reader = FolderReader(folder, silent_after)
                self.folders.append(folder)
                self.names.append(str(folder))
            if key in seen:
                raise ValueError(f"'folder' lists {str(item)!r} twice: every run would be shown twice")
            seen.add(key)
            self.readers.append(reader)

    def poll(self) -> bool:
        """Read what every source gained; True if anything changed."""
        changed = False
        for reader in self.readers:
            changed |= reader.poll()
        return changed

    def rows(self) -> tuple[list[Row], list[str]]:
        """Every source's runs, and a sentence per source or file that is not (yet) read as a run."""
        rows: list[Row] = []
        others: list[str] = []
        for name, reader in zip(self.names, self.readers):
            more, said = reader.rows()
            rows += more
            if reader.problem:  # a server's problem names the server; a folder's is named when there are several
                several = len(self.readers) > 1 and isinstance(reader, FolderReader)
                others.append(f"{name}: {reader.problem}" if several else reader.problem)
            others += said
        return rows, others

    @property
    def shown(self) -> str:
        """The sources as a teacher named them, for the view's first line."""
        return " and ".join(self.names) if self.names else "this notebook"
