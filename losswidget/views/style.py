"""Colours and names every view uses for the same marks (the live widget and the static SVG)."""

from __future__ import annotations

COLORS = {
    "train": "#1f77b4",
    "val": "#d55e00",  # vermillion (Okabe-Ito): 3.9:1 on white, 4.9:1 on a dark theme; matplotlib orange was 2.5:1
    "steps": "#4292c6",  # drawn at STEP_OPACITY (light, as a texture); its legend swatch at full: 3.4:1 on white
    "best": "#b8860b",  # dark gold: 3.3:1 on white, 5.9:1 on a dark theme
    "stop": "#d62728",
    "what_if": "#7f7f7f",
    "past": "#b0b0b0",
    "band": "#d55e00",  # the validation colour, filled at BAND_OPACITY: legible under both themes' curves
    "rate": "#009e73",  # the learning rate (Okabe-Ito bluish green): not a loss colour, not a marker's
    "note": "#444444",  # a legend's words about the curves (smoothing, earlier runs): 9.7:1 on white
}
STEP_OPACITY = 0.5  # each step's loss: a light texture under the epoch means
BAND_OPACITY = 0.15  # the validation line over the band keeps 3:1 on white (3.2), 4:1 on a dark theme
METRIC_COLORS = ["#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
# Earlier runs, told apart by hue (drawn faded): not the live run's blue/orange, not the marks' gold/red.
PAST_COLORS = ["#7f7f7f", "#9467bd", "#17becf", "#8c564b", "#bcbd22", "#e377c2"]
VAL_DASH = "7 4"  # validation is dashed everywhere: colour is never the only thing telling the curves apart


def rate_color(index: int) -> str:
    """The learning rate's colour for parameter group ``index`` (the first in the rate's own colour)."""
    return COLORS["rate"] if index == 0 else METRIC_COLORS[(index - 1) % len(METRIC_COLORS)]


# An earlier run's shade by its rank among its setting's runs (its seed): the hue itself, then darker
# and lighter in turn (a share of the way to black, below 0, or to white).
PAST_SHADES = (0.0, -0.3, 0.35, -0.5, 0.55, -0.15, 0.2)  # never near black: the hue stays seen


def past_color(hue: int, shade: int = 0) -> str:
    """The colour of an earlier run: its setting's hue, in the shade of its seed's rank."""
    base = PAST_COLORS[hue % len(PAST_COLORS)]
    mix = PAST_SHADES[shade % len(PAST_SHADES)]
    target = 255 if mix > 0 else 0
    channels = (int(base[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(c + abs(mix) * (target - c)):02x}" for c in channels)


def curve_color(curve) -> str:
    """The colour of an earlier run's curves (a ``PastCurve``)."""
    return past_color(curve.hue, curve.shade)


def legend_color(role: str, index: int = 0, runs=()) -> str:
    """The colour of a legend entry's role ("train", "steps", "val", "band", "best", "note", or "past"
    with its index among ``runs``, the frame's earlier runs)."""
    return curve_color(runs[index]) if role == "past" else COLORS[role]
