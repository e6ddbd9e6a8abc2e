"""What happened to a run besides its values: a learning-rate change, a pause, a resume, a branch
back to the best epoch, a setting of early stopping moved (patience, min_delta).

An event is a history record like an epoch (DESIGN.md, "Events"): the controls only request a
change, the training thread applies it at a step or epoch boundary and records it here, with the
epoch and the step it took effect at, the value before and after, and who asked. The history keeps
them (``History.events``), every output writes it (the JSONL log an ``event`` record, TensorBoard a
text summary, a tracker its own key), CSV export an ``event`` row, the chart marks them, and a
monitor made with ``replay=`` applies them again at the same steps (:mod:`losswidget.run.replay_events`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

KINDS = ("lr", "pause", "resume", "branch", "patience", "min_delta")
SETTINGS = ("patience", "min_delta")  # kinds that move a setting of early stopping (old and new values)
SOURCES = ("control", "api", "watcher", "replay")


@dataclass(frozen=True)
class Event:
    """``kind``: one of :data:`KINDS`; ``epoch``: the epoch it happened in; ``step``: the run's steps
    recorded before it (the first step it applies to); ``old``/``new``: the value before and after: the
    first parameter group's learning rate ("lr", "branch": the best epoch's rate and the rate run on
    with), the patience (None: early stopping off) or min_delta; None otherwise; ``source``: "control"
    (a button or slider), "api" (a call), "watcher" (a control file) or "replay" (``replay=``);
    ``parent``: a branch's, the run it went back into (its ``epoch`` is that run's best epoch, where
    this run begins)."""

    kind: str
    epoch: int
    step: int
    old: float | None = None
    new: float | None = None
    source: str = "api"
    parent: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"an event's 'kind' must be one of {', '.join(KINDS)}: {self.kind!r}")
        if self.source not in SOURCES:
            raise ValueError(f"an event's 'source' must be one of {', '.join(SOURCES)}: {self.source!r}")
        for name in ("epoch", "step"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"an event's {name!r} must be a whole number >= 0: {value!r}")
        for name in ("old", "new"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ValueError(f"an event's {name!r} must be a number or None: {value!r}")
        if self.parent is not None and not isinstance(self.parent, str):
            raise ValueError(f"an event's 'parent' must be a run's name or None: {self.parent!r}")
        if self.kind == "branch" and self.parent is None:
            raise ValueError("a branch event needs its 'parent': the name of the run it went back into")
        if self.kind in ("lr", "branch") and not all(
            v is not None and math.isfinite(v) and v > 0 for v in (self.old, self.new)
        ):
            raise ValueError(f"a learning-rate event needs positive finite 'old' and 'new': {self.old!r}, {self.new!r}")

    @property
    def label(self) -> str:
        """How the chart marks it: "lr ×0.5", "paused", "resumed", "branch from run 1, lr ×0.3",
        "patience 5→10", "min_delta 0→0.01"."""
        if self.kind == "lr":
            return f"lr ×{self.new / self.old:.3g}"  # type: ignore[operator]
        if self.kind == "branch":
            kept = math.isclose(self.new, self.old, rel_tol=1e-9)  # type: ignore[arg-type]
            return f"branch from {self.parent}" + ("" if kept else f", lr ×{self.new / self.old:.3g}")  # type: ignore[operator]
        if self.kind in SETTINGS:
            return f"{self.kind} {_setting(self.old)}→{_setting(self.new)}"
        return "paused" if self.kind == "pause" else "resumed"

    @property
    def sentence(self) -> str:
        """In words, for the status: "Learning rate 0.1 → 0.05 at epoch 3, step 120, by the control."."""
        by = {"control": "the control", "api": "a call", "watcher": "a watcher", "replay": "the replay"}[self.source]
        where = f"at epoch {self.epoch}, step {self.step}, by {by}"
        if self.kind == "lr":
            return f"Learning rate {self.old:.3g} → {self.new:.3g} {where}."
        if self.kind == "branch":
            return f"Back to epoch {self.epoch} of {self.parent}, lr {self.old:.3g} → {self.new:.3g}, by {by}."
        if self.kind in SETTINGS:
            return f"{self.kind.capitalize()} {_setting(self.old)} → {_setting(self.new)} {where}."
        return f"{'Paused' if self.kind == 'pause' else 'Resumed'} {where}."

    def record(self) -> dict[str, Any]:
        """The JSONL log's ``event`` record."""
        return {
            "kind": "event",
            "event": self.kind,
            "epoch": self.epoch,
            "step": self.step,
            "old": self.old,
            "new": self.new,
            "source": self.source,
            **({"parent": self.parent} if self.parent is not None else {}),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Event:
        """An ``event`` record read back; ValueError naming what is wrong."""
        return cls(
            record.get("event"),  # type: ignore[arg-type]
            record.get("epoch"),  # type: ignore[arg-type]
            record.get("step"),  # type: ignore[arg-type]
            record.get("old"),
            record.get("new"),
            record.get("source"),  # type: ignore[arg-type]
            record.get("parent"),
        )


def _setting(value: float | None) -> str:
    """A patience or min_delta in words: "off" for early stopping turned off."""
    return "off" if value is None else f"{value:g}"
