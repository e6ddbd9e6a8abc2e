"""A watcher's Pause, Resume and learning-rate buttons: requests written next to each run's log.

The same buttons as a monitor's (:mod:`losswidget.views.steer_buttons`) act on this object, which
has the shape of :class:`~losswidget.run.steering.Steering` but only writes requests
(:mod:`losswidget.files.control`): each training process applies them at its next step or epoch,
as its own monitor's buttons would (``source`` "watcher" in its events), where its monitor knows the
optimizer. Going back to the best epoch needs the weights in that process: not from a watcher.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from losswidget.chart.rates import is_rate
from losswidget.files.control import add_rate, control_path, write_request
from losswidget.files.follower import FileFollower

RATE_TEXT = (
    "Change the learning rate of the runs still going at their next step (their monitor needs the "
    "optimizer: optimizer=..., fit or a framework callback)"
)


class WatcherSteering:
    def __init__(self, followers: list[FileFollower], said: list[str], changed: Callable[[], None]) -> None:
        self._followers, self._said, self._changed = followers, said, changed
        self.pause_wanted = False
        self.branch_request = None  # never asked from here: no Back button (``branches``)
        self.branches = False
        self.unavailable = None  # a pause is asked of each run; one under DDP ignores it

    def _ask(self, write: Callable[[FileFollower], Any], what: str) -> None:
        """Write one request to each run still going, and say it on the status ("Asked x to ...")."""
        self._said.clear()
        for follower in self._followers:
            if follower.ended is not None or follower.problem == "waiting":
                continue
            write(follower)
            self._said.append(f"Asked {follower.path.name} to {what}.")
        self._changed()

    def request_pause(self, source: str = "watcher") -> None:
        self.pause_wanted = True
        self._ask(lambda f: write_request(control_path(f.path), pause=True), "pause at its next step")

    def request_resume(self, source: str = "watcher") -> None:
        self.pause_wanted = False
        self._ask(lambda f: write_request(control_path(f.path), pause=False), "resume")

    def request_rate(self, value: float | None, factor: float | None, source: str = "watcher") -> None:
        if value is not None or factor is None:
            raise ValueError("a watcher changes a learning rate by a factor (its value is the training's)")
        self._ask(lambda f: add_rate(control_path(f.path), factor), f"multiply its learning rate by {factor:g}")

    def rate_control(self) -> tuple[bool, str]:
        """Shown where a run logs its learning rate (its monitor knows the optimizer)."""
        known = any(any(map(is_rate, f.history.metric_names)) for f in self._followers)
        return (True, RATE_TEXT) if known else (False, "No learning-rate control: the runs log no learning rate.")

    def branch_problem(self) -> str:
        return "going back to the best epoch needs the training's own process (monitor.branch() there)"

    def request_branch(self, *args: Any) -> None:  # the button is disabled: branch_problem says why
        return None
