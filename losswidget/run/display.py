"""Where the monitor is seen: the view (widget, text or none), the control channel, and drawing.

Picks the view at call time (a widget inside a Jupyter kernel, text elsewhere), connects its
controls to the kernel (:mod:`losswidget.kernel`), and draws the frames of its
:class:`FrameSource` (the monitor's feed, or a watcher's) on the loop's thread, within the frame
clock's budget. The view protocol is :class:`losswidget.views.base.View`.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from typing import Any, Protocol

from losswidget.chart.frame import Frame
from losswidget.core.validate import user_stacklevel
from losswidget.kernel import REGIME_TEXT, ControlChannel, after_cell, current_kernel, enable_colab_widgets
from losswidget.run.interrupts import SignalsDeferred
from losswidget.run.redraw import RedrawClock


class FrameSource(Protocol):
    """Where a display's frames come from: a part of its owner, never the owner itself."""

    def flush(self) -> None:
        """Pending step values into the history, before every frame."""

    def frame(self, regime: str) -> Frame:
        """The frame to draw now; ``regime`` says how clicks reach the kernel, in words."""


class Display:
    def __init__(self, mode: str, frame_rate: float) -> None:
        self.mode = mode  # "auto", "widget", "text" or "none"
        self.view: Any = None
        self.channel: ControlChannel | None = None
        self.clock = RedrawClock(frame_rate)
        self.regime = "terminal"
        self.source: FrameSource | None = None  # set once by the owner, before the first draw
        self._after_cell_pending: set[str] = set()

    # -- the view --------------------------------------------------------------------------

    def ensure_view(self, controls: Any) -> None:
        """Create the view on first use; ``controls`` is what its widgets act on."""
        if self.view is not None or self.mode == "none":
            return
        mode = self.mode
        if mode == "auto":
            mode = "widget" if current_kernel() is not None else "text"
        if mode == "widget":
            from losswidget.views.widget import WidgetView

            problem = enable_colab_widgets()
            if problem:
                warnings.warn(problem, stacklevel=4)
            self.view = WidgetView(controls)
            self.channel = ControlChannel()
            self.channel.attach(self.view.controls)
            if self.channel.kernel_problem:
                warnings.warn(self.channel.kernel_problem, stacklevel=4)
        else:
            from losswidget.views.text import TextView

            self.view = TextView(warn=_warn_at_user)

    def show(self, controls: Any) -> None:
        self.ensure_view(controls)
        if self.view is not None and not self.view.shown:
            self.view.show()

    def sync_controls(self, settings: Any) -> None:
        if self.view is not None:
            self.view.sync_controls(settings)

    # -- how clicks arrive ------------------------------------------------------------------

    def loop_started(self) -> None:
        self.regime = self.channel.regime() if self.channel else ("terminal" if _on_main() else "thread")
        self.clock.loop_thread = threading.current_thread()
        if self.channel is not None:
            self.channel.loop_started()

    def loop_ended(self) -> None:
        self.clock.loop_thread = None
        if self.channel is not None:
            self.channel.loop_ended()

    def regime_text(self) -> str:
        return self.channel.describe(self.regime) if self.channel else REGIME_TEXT[self.regime]

    def handle_events(self) -> None:
        """On the loop's thread: deliver pending clicks where the kernel needs us to (ipykernel 6)."""
        if self.channel is not None and self.regime == "pump":
            self.channel.pump()

    # -- drawing ----------------------------------------------------------------------------

    def request_redraw(self, loop_active: bool, final: bool = False) -> None:
        """From a control (any thread): redraw now if no loop runs, else at the loop's next frame."""
        self.clock.mark_dirty()
        if not loop_active:
            self.draw(final=final)

    def draw(self, final: bool = False, image_after_cell: bool = False) -> None:
        """Draw a frame now. ``final``: also put the static image beside the widget; with
        ``image_after_cell``, on the kernel's main thread, that image is made once the running cell
        ends (an SVG and a display update are not worth the training time of the cell's next lines)."""
        clock = self.clock
        if not clock.may_draw_here():
            clock.mark_dirty()  # not ours to draw: the loop will, at its next clock read
            return
        started = time.perf_counter()
        with clock.lock, SignalsDeferred():
            clock.dirty = False
            source = self.source
            if source is not None:
                source.flush()
            if self.view is not None and source is not None:
                if self.channel is not None and clock.loop_thread is not None:
                    self.regime = self.channel.regime()
                frame = source.frame(self.regime_text())
                self.view.render(frame)
                if final and not (image_after_cell and _on_main() and self._finish_after_cell()):
                    self.view.finish(frame)
        clock.drawn(started)

    def _finish_after_cell(self) -> bool:
        return self.after_cell("finish", lambda result: self.draw(final=True))

    def after_cell(self, key: str, callback: Callable[[Any], None]) -> bool:
        """Run ``callback(result)`` once, on the kernel's main thread, when the running cell ends;
        False (nothing registered) outside IPython."""
        if key in self._after_cell_pending:
            return True

        def once(result: Any) -> None:
            self._after_cell_pending.discard(key)
            callback(result)

        if after_cell(once):
            self._after_cell_pending.add(key)
            return True
        return False


def _on_main() -> bool:
    return threading.current_thread() is threading.main_thread()


def _warn_at_user(message: str) -> None:
    """A view's warning, located at the user's line (the loop, ``log()``), not inside losswidget."""
    warnings.warn(message, stacklevel=user_stacklevel())
