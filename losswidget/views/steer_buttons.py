"""The steering buttons beside Stop: Pause/Resume, the learning rate ×½ and ×2, and Back to best.

Their handlers (on a kernel-subshell thread) only request, as Stop's does: the training thread
applies a request at its next step (``losswidget.run.steering``), a branch back to the best epoch at
its next epoch boundary (``losswidget.run.branch_face``). The buttons show what the controls'
``steering`` says: a pause asked for, whether the optimizer's rate can be changed and what a change
does, whether the best epoch's training can be taken up again (else why not, as the button's tooltip).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from losswidget.views.base import Controls

PAUSE, RESUME = "Pause", "Resume"
PAUSE_TEXT = "Hold the training at its next step; Resume goes on, Stop ends it"
RATE_STEPS = ((0.5, "lr ×½"), (2.0, "lr ×2"))
BACK, ASKED = "Back to best", "Back to best (asked)"
BACK_TEXT = (
    "Back to the best epoch's weights, optimizer and scheduler state at the next epoch boundary; "
    "the training goes on from there as a new run (this one stays in the chart, faded)"
)


class SteerButtons:
    def __init__(self, controls: Controls) -> None:
        self._steering = controls.steering
        self.pause_button = widgets.Button(
            description=PAUSE,
            icon="pause",
            disabled=True,
            tooltip=PAUSE_TEXT,
            layout=widgets.Layout(width="auto", flex="0 0 auto"),
        )
        self.pause_button.on_click(self._pause_pressed)
        self.rate_buttons = []
        for factor, label in RATE_STEPS:
            button = widgets.Button(
                description=label, disabled=True, layout=widgets.Layout(width="auto", flex="0 0 auto", display="none")
            )
            button.on_click(lambda button, factor=factor: self._steering.request_rate(None, factor, "control"))
            self.rate_buttons.append(button)
        self.back_button = widgets.Button(
            description=BACK, icon="undo", disabled=True, layout=widgets.Layout(width="auto", flex="0 0 auto")
        )
        self.back_button.on_click(self._back_pressed)
        # A view with no training to steer (a saved history) has no steering to offer.
        # A watcher's runs go on in other processes: they pause and change rate, but branch only there.
        steer = [self.pause_button, *self.rate_buttons]
        if getattr(self._steering, "branches", True):
            steer.append(self.back_button)
        self.widgets = [] if self._steering is None else steer

    def _back_pressed(self, button: Any) -> None:
        """On the kernel's subshell thread: request (the training thread branches), and say so."""
        if self._steering.branch_problem() is None:
            self._steering.request_branch(None, None, None, "control")
            button.description = ASKED

    def _pause_pressed(self, button: Any) -> None:
        """On the kernel's subshell thread: request, and say so on the button at once."""
        if self._steering.pause_wanted:
            self._steering.request_resume("control")
            button.description, button.icon = PAUSE, "pause"
        else:
            self._steering.request_pause("control")
            button.description, button.icon = RESUME, "play"

    def render(self, running: bool) -> None:
        """``running``: a loop runs (the buttons act). Not cached: the click handler sets the pause
        button too, so each value is compared with the widget's own."""
        if self._steering is None:
            return
        paused = self._steering.pause_wanted and running
        cannot = getattr(self._steering, "unavailable", None)  # under DDP: why there is no pause
        _set(self.pause_button, disabled=not running or bool(cannot), description=RESUME if paused else PAUSE)
        _set(self.pause_button, tooltip=f"Not available: {cannot}." if cannot else PAUSE_TEXT)
        _set(self.pause_button, icon="play" if paused else "pause")
        available, text = self._steering.rate_control()
        for button in self.rate_buttons:
            _set(button, disabled=not running, tooltip=text)
            _set(button.layout, display=None if available else "none")
        problem = self._steering.branch_problem() if running else "the loop has ended: monitor.branch() goes back"
        asked = running and self._steering.branch_request is not None
        back_text = BACK_TEXT if problem is None else f"Not available: {problem}."
        _set(self.back_button, disabled=problem is not None or asked, tooltip=back_text)
        _set(self.back_button, description=ASKED if asked else BACK)


def _set(widget: Any, **values: Any) -> None:
    changed = {name: value for name, value in values.items() if getattr(widget, name) != value}
    if changed:
        with widget.hold_sync():
            for name, value in changed.items():
                setattr(widget, name, value)
