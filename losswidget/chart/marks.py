"""What the views draw besides the curves, computed once for all of them: the axes' ticks, the metric
panel's range, the legend, the earlier runs' curves and whether per-epoch dots are drawn.

The live widget and the saved SVG both read these from the :class:`~losswidget.chart.frame.Frame`,
so the picture a notebook keeps cannot disagree with the chart a student watched.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from losswidget.core.evidence import CLEAR
from losswidget.core.words import quantity

MARKER_LIMIT = 60  # epochs beyond which per-epoch dots merge into a band: drawn as lines only
LOSS_TICKS = 5  # round ticks on the loss axis: one about every 55 px of its ~280-300 px
METRIC_TICKS = 3  # and on the ~150 px metric panel
EPOCH_TICKS = 5
NEAR_TICK = 0.2  # a metric within this share of a tick step of the next round value: the axis reaches it
BAND = CLEAR  # the validation band's half-width, in standard errors: where the status calls a change real


@dataclass(frozen=True)
class Ticks:
    """Round tick values and the one format that shows each with the decimals its step needs
    (0.25, 0.50 - not 0.3, 0.5 or 0.500): a d3 format for bqplot, the same for Python."""

    values: tuple[float, ...] = ()
    format: str = ".3g"

    def labels(self) -> list[str]:
        return [format(value, self.format) for value in self.values]


@dataclass(frozen=True)
class LegendEntry:
    label: str
    # "train", "steps", "val", "band", "best", "note" (words, no swatch), or "past" (then ``index``
    # names which earlier run)
    role: str
    index: int = 0


@dataclass
class PastCurve:
    """One earlier run as drawn: its validation curve (or its training curve when it logged none), its
    training curve beside it (fainter, thinner) and its metrics, for the comparisons a lesson makes."""

    name: str
    label: str  # the run's name; "run 1 (train only)" when it logged no validation
    epochs: np.ndarray
    values: np.ndarray  # float64; NaN where nothing is drawn (and, on a log axis, at values <= 0)
    train: np.ndarray = field(default_factory=lambda: np.empty(0))  # empty when ``values`` is the training
    metrics: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # name: (epochs, values)
    shows_val: bool = True  # ``values`` is the validation curve (False: the run logged none)
    hue: int = 0  # its setting's colour: runs named "<setting>, seed <n>" share one (``run_setting``)
    shade: int = 0  # its rank among its setting's earlier runs: a lighter or darker shade of the hue


def val_band(val: np.ndarray, se: np.ndarray, log_y: bool) -> tuple[np.ndarray, np.ndarray]:
    """(low, high): each epoch's validation mean ± BAND standard errors, NaN where it has none. On a
    log axis a low end at or below 0 cannot be drawn: it is drawn at a tenth of the mean."""
    se = np.where(np.isfinite(se) & (se >= 0), se, np.nan)
    low, high = val - BAND * se, val + BAND * se
    if log_y:
        low = np.where(low > 0, low, val / 10)
    return low, high


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high], about ``count`` of them (steps of 1, 2, 2.5 or 5 x 10^k)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-6) * step  # float32 data: 0.8500000238 still starts at 0.85
    return [first + i * step for i in range(int((high - first) / step + 1e-6) + 1)]


def linear_ticks(low: float, high: float, count: int) -> Ticks:
    """The round ticks inside [low, high], with the format their step needs: at least two where a
    finer step gives them (0.12-0.9 in about three ticks has only 0.5 at a step of 0.5: 0.25 steps)."""
    slack = 1e-4 * (high - low)  # float32 data: a tick at an end counts as inside
    for wanted in (count, count + 1, count + 2, 2 * count):
        ticks = [t for t in nice_ticks(low, high, wanted) if low - slack <= t <= high + slack]
        if len(ticks) >= 2:
            break
    if len(ticks) < 2:
        return Ticks(tuple(ticks), ".3g")
    step = ticks[1] - ticks[0]
    decimals = next((d for d in range(10) if abs(round(step, d) - step) <= 1e-9 * step), 3)
    values = tuple(float(v) for v in np.round(np.array(ticks, dtype=np.float64), decimals))
    return Ticks(values, f".{decimals}f" if decimals <= 4 else ".3g")


LOG_TICK_LIMIT = 7  # labels on a log axis: a diverged run spans 40 decades, and 40 labels overlap
_DECADE_STEPS = (1, 2, 3, 5, 10, 20, 25, 50, 100)


def log_ticks(low: float, high: float) -> Ticks:
    """Decades inside [low, high] (and 2 and 5 times them when fewer than three decades fit); when
    more than LOG_TICK_LIMIT decades fit, every k-th decade (1e-06, 1e+00, 1e+06, ...)."""
    if not (0 < low < high and math.isfinite(high)):
        return Ticks()
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    for multiples in ((1,), (1, 2, 5), (1, 3)):
        ticks = [m * 10.0**k for k in range(first, last + 1) for m in multiples]
        ticks = [t for t in ticks if low * (1 - 1e-6) <= t <= high * (1 + 1e-6)]
        if multiples == (1,) and len(ticks) > LOG_TICK_LIMIT:
            exponents = [round(math.log10(t)) for t in ticks]
            every = next(k for k in _DECADE_STEPS if sum(e % k == 0 for e in exponents) <= LOG_TICK_LIMIT)
            ticks = [t for t, e in zip(ticks, exponents) if e % every == 0]
        if 3 <= len(ticks) <= LOG_TICK_LIMIT:
            return Ticks(tuple(ticks), ".3g")
    return linear_ticks(low, high, LOSS_TICKS)


_FORMAT = re.compile(r"\.(\d+)~?([fg])")
BRIDGE_FORMATS = (".4~g", ".6~g", ".10~g", ".17~g")  # d3's "~": trailing zeros trimmed, as Python's "g"


def distinct_labels(values, tick_format: str) -> bool:
    """Whether ``tick_format`` labels ``values`` without a repeat, as d3 formats them (ties round away
    from zero: 0.5 reads "1" at ".0f", where Python reads "0"). ``values`` None: bqplot's own ticks, which
    only a ``g`` format at least as precise as ".3g" (the axes' format when they are used) is known to tell
    apart."""
    match = _FORMAT.fullmatch(tick_format)
    if match is None:
        return False
    if values is None:
        return match[2] == "g" and int(match[1]) >= 3
    python_format = f".{match[1]}{match[2]}"
    labels = [format(v * (1 + 1e-12) if v else 0.0, python_format) for v in np.asarray(values, dtype=np.float64)]
    return len(set(labels)) == len(labels)


def bridge_format(old_values, old_format: str, new_values, new_format: str) -> str:
    """The format to send before new tick values (None: bqplot's own ticks). bqplot redraws the old
    values in a new format at once, and draws new values a frame later in the format the axis had when
    they arrived: the format sent with them must read both sets without a repeat ("0, 1, 1, 2, 2": 0 to
    2 in steps of 0.5 at ".0f"). The new format when it can, else the old one, else a finer ``g``; the
    new format follows alone once the new values are drawn."""
    for tick_format in (new_format, old_format, *BRIDGE_FORMATS):
        if distinct_labels(old_values, tick_format) and distinct_labels(new_values, tick_format):
            return tick_format
    return new_format


def loss_ticks(y_range: tuple[float, float], log_y: bool) -> Ticks:
    low, high = float(y_range[0]), float(y_range[1])
    return log_ticks(low, high) if log_y else linear_ticks(low, high, LOSS_TICKS)


def epoch_ticks(x_range: tuple[float, float]) -> Ticks:
    """Whole epochs only: a point is an epoch, never half of one."""
    ticks = [t for t in nice_ticks(float(x_range[0]), float(x_range[1]), EPOCH_TICKS) if float(t).is_integer()]
    return Ticks(tuple(float(t) for t in ticks), ".0f")


def metric_range(values: list[np.ndarray]) -> tuple[tuple[float, float], Ticks]:
    """The metric panel's axis (its end ticks inside the plot, drawn and labelled) and its ticks."""
    finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.empty(0)
    if not finite.size:
        return (0.0, 1.0), linear_ticks(0.0, 1.0, METRIC_TICKS)
    low, high = float(finite.min()), float(finite.max())
    if high - low < 1e-12 * max(abs(high), 1.0):
        low, high = low - 0.5 * max(abs(low), 1e-3), high + 0.5 * max(abs(high), 1e-3)
    ticks = nice_ticks(low, high, METRIC_TICKS)
    low, high = min(low, ticks[0]), max(high, ticks[-1])
    inner = linear_ticks(low, high, METRIC_TICKS).values
    if len(inner) >= 2:  # data that nearly reaches the next round value (0.99 by 1.0) gets its tick
        step = inner[1] - inner[0]
        if 0 < inner[0] - low and inner[0] - step >= low - NEAR_TICK * step:
            low = inner[0] - step
        if 0 < high - inner[-1] and inner[-1] + step <= high + NEAR_TICK * step:
            high = inner[-1] + step
    pad = 0.03 * (high - low)
    return (low - pad, high + pad), linear_ticks(low, high, METRIC_TICKS)


def past_curves(runs: list, log_y: bool) -> list[PastCurve]:
    """Earlier runs (``PastRun``) as drawn: validation if they logged any (and training beside it),
    else training; their metrics for the metric panel."""
    curves, hues, seen = [], {}, {}
    for index, run in enumerate(runs):
        setting = run_setting(run.name)
        key = setting if setting is not None else ("run", index)
        hue = hues.setdefault(key, len(hues))
        shade = seen[key] = seen.get(key, -1) + 1
        shows_val = bool(np.isfinite(run.val).any())
        main = _drawable(run.val if shows_val else run.train, log_y)
        train = _drawable(run.train, log_y) if shows_val and np.isfinite(run.train).any() else np.empty(0)
        label = run.name if shows_val else f"{run.name} (train only)"
        metrics = {
            name: (run.epochs, np.where(np.isfinite(values), values, np.nan))
            for name, values in getattr(run, "metrics", {}).items()
            if np.isfinite(values).any()
        }
        curves.append(PastCurve(run.name, label, run.epochs, main, train, metrics, shows_val, hue, shade))
    return curves


_SEED_NAME = re.compile(r"(?P<setting>.+?),?\s+seed\s*[-\w.]+")


def run_setting(name: str | None) -> str | None:
    """The setting a run named "<setting>, seed <n>" tried ("baseline, seed 3": "baseline"), or None:
    runs of one setting share a colour, told apart by its shade (colour is the setting, shade the seed)."""
    match = _SEED_NAME.fullmatch(name or "")
    return match["setting"] if match else None


def _drawable(values: np.ndarray, log_y: bool) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    drawn = np.isfinite(values) & ((values > 0) if log_y else True)
    return np.where(drawn, values, np.nan)


def smoothing_note(smoothing: int, x_label: str = "epoch") -> str:
    """What a trailing window does to a curve, in the legend: it lags by (window - 1) / 2 points."""
    unit = "epoch" if x_label == "epoch" else "point"
    last, lag = quantity(smoothing, unit), quantity((smoothing - 1) / 2, unit)
    return f"smoothed: mean of the last {last} (lags by {lag}); faint: raw"


STEPS_LABEL = "train, each step"
PAST_NOTE = "earlier runs: dashed validation, thin solid train"
SEEDS_NOTE = "colour: the setting; shade: the seed"


def legend(
    curves: list[PastCurve],
    best_shown: bool,
    band_shown: bool = False,
    *,
    steps_shown: bool = False,
    smoothing: int = 1,
    x_label: str = "epoch",
    run_name: str = "",
) -> list[LegendEntry]:
    """The legend's entries. Beside earlier runs the current run's curves carry its name too
    ("train, run 2"), so every run drawn is named in the legend, not only in the title."""
    suffix = f", {run_name}" if run_name and curves else ""
    entries = [LegendEntry(("train (epoch mean)" if steps_shown else "train") + suffix, "train")]
    if steps_shown:
        entries.append(LegendEntry(STEPS_LABEL + suffix, "steps"))
    entries.append(LegendEntry("validation" + suffix, "val"))
    if band_shown:
        entries.append(LegendEntry(f"±{BAND:g} standard errors", "band"))
    if best_shown:
        entries.append(LegendEntry("best epoch", "best"))
    if smoothing > 1:
        entries.append(LegendEntry(smoothing_note(smoothing, x_label), "note"))
    if any(curve.train.size for curve in curves):
        entries.append(LegendEntry(PAST_NOTE, "note"))
    if any(curve.shade for curve in curves):
        entries.append(LegendEntry(SEEDS_NOTE, "note"))
    return entries + [LegendEntry(curve.label, "past", index) for index, curve in enumerate(curves)]


LOSS_NAME_LIMIT = 40  # characters of a loss's name on the y axis


def loss_label(loss_name: str | None, log_y: bool) -> str:
    """The loss axis' title: "loss", or the loss by name ("cross-entropy loss"), "(log)" on a log axis."""
    label = f"{loss_name} loss" if loss_name else "loss"
    return f"{label} (log)" if log_y else label


OWNED_PREFIXES = ("val", "eval", "test", "train")  # a name that already says whose it is


def metric_label(name: str, source: str | None) -> str:
    """A metric as the panel names it: whose it is ("val acc" where the loop measured it on the
    validation set, as ``fit`` does) unless its name says so already."""
    if source is None or name.lower().startswith(OWNED_PREFIXES):
        return name
    return f"{'val' if source == 'validation' else 'train'} {name}"
