"""What every view is: the protocol the monitor draws through, and what a view's controls act on.

A view only draws: it gets a :class:`~losswidget.chart.frame.Frame` (already masked,
decimated and with its status lines) and computes nothing. Its controls act on
:class:`Controls`: the chart settings and a stop action, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from losswidget.chart.frame import Frame
from losswidget.chart.settings import ChartSettings


@dataclass
class Controls:
    """What a view's widgets act on (handlers may run on a kernel-subshell thread)."""

    settings: ChartSettings
    stop: Callable[[], None]  # the Stop button: sets a flag, nothing more
    describe: Callable[[], str]  # a one-line text of the run, for text/plain outputs
    # Pause, Resume and the learning rate (run/steering.Steering): request_pause/request_resume/
    # request_rate(value, factor, source), pause_wanted, optimizer; requests only, like stop
    steering: Any = None


class View(Protocol):
    shown: bool
    controls: list  # the widgets whose messages must reach a busy kernel

    def show(self) -> None:
        """Put the view in the output (once)."""

    def render(self, frame: Frame) -> None:
        """Draw one frame (throttled by the caller)."""

    def finish(self, frame: Frame) -> None:
        """The loop ended: leave the final state (and a static image where widgets don't run)."""

    def sync_controls(self, settings: ChartSettings) -> None:
        """Show settings changed from code on the controls."""
