"""When to draw: the frame clock, the drawing budget, and which thread may draw.

The loop's thread draws; a control handler on another thread only marks the chart dirty
(the loop draws it at its next check) or, when no loop runs, draws itself.
"""

from __future__ import annotations

import threading
import time

DRAW_BUDGET = 0.02  # drawing may take at most this share of the training time
CHECK_INTERVAL = 0.05  # UI events and control requests are checked this often while steps run
STEP_CLOCK_INTERVAL = 0.01  # the per-step path reads the clock about this often...
MAX_STEPS_PER_CLOCK = 64  # ...and at least every this many steps


class RedrawClock:
    def __init__(self, frame_rate: float) -> None:
        self.frame_interval = 1.0 / frame_rate
        self.next_frame_at = 0.0
        self.next_check_at = 0.0  # the per-step path's only test: now >= next_check_at
        self._next_events_at = 0.0
        self.frame_seconds = 0.0  # Python-side cost of the last frame
        self.frames_drawn = 0
        self.dirty = False
        self.steps_per_clock = 1  # log_step reads the clock every this many steps (adapts to the pace)
        self._clock_read_at = 0.0
        self.lock = threading.RLock()
        self.loop_thread: threading.Thread | None = None

    def may_draw_here(self) -> bool:
        """False on a control's thread while a loop runs: the loop will draw."""
        return self.loop_thread is None or threading.current_thread() is self.loop_thread

    def events_due(self, now: float) -> bool:
        if now < self._next_events_at:
            return False
        self._next_events_at = now + CHECK_INTERVAL
        self._reschedule()
        return True

    def mark_dirty(self) -> None:
        """From any thread: the chart changed (a slider, Stop): the loop draws at its next clock read."""
        self.dirty = True
        self.next_check_at = 0.0

    def frame_due(self, now: float) -> bool:
        return self.dirty or now >= self.next_frame_at

    def clock_read(self, now: float) -> int:
        """The per-step path read the clock: how many steps until it reads it again. About every
        ``STEP_CLOCK_INTERVAL`` at the pace just measured, at most ``MAX_STEPS_PER_CLOCK`` steps,
        so the clock costs nothing per step and a click waits at most 64 steps. A pause (between
        loops, a long validation) counts as slow steps: the count falls and grows back."""
        elapsed, self._clock_read_at = now - self._clock_read_at, now
        if elapsed > 0:
            steps = round(self.steps_per_clock * STEP_CLOCK_INTERVAL / elapsed)
            self.steps_per_clock = max(1, min(MAX_STEPS_PER_CLOCK, steps))
        return self.steps_per_clock

    def drawn(self, started: float) -> None:
        now = time.perf_counter()
        self.frames_drawn += 1
        self.frame_seconds = now - started
        # Adaptive: drawing never takes more than DRAW_BUDGET of the time.
        self.next_frame_at = now + max(self.frame_interval, self.frame_seconds / DRAW_BUDGET)
        self._reschedule()

    def _reschedule(self) -> None:
        self.next_check_at = min(self.next_frame_at, self._next_events_at)
