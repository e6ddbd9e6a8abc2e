"""The validation band: each epoch's mean ± 2 standard errors, from per-example validation losses,
in the frame, the static SVG and the toggle (the live widget's marks: tests/test_widget.py; in a
browser: tests/e2e/test_classroom_chart.py)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import losswidget as lw
from losswidget.chart.marks import BAND
from losswidget.core.evidence import CLEAR
from losswidget.views.svg import render_svg

N = 200


def run_per_example(monitor, epochs=30, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.gamma(2.0, 0.25, N)
    for epoch in monitor.epochs(epochs):
        monitor.log(train=0.3 + 1 / (epoch + 1), val=base + 0.3 + 0.002 * (epoch - 12) ** 2 + rng.normal(0, 0.05, N))
    return monitor


def test_the_band_is_the_mean_plus_and_minus_two_recorded_standard_errors():
    assert BAND == CLEAR == 2  # the band's edge is where the status calls a change real
    monitor = run_per_example(lw.LiveLossMonitor(patience=None, display="none"))
    frame = monitor._build_frame()
    history = monitor.history
    np.testing.assert_allclose(frame.val_low, history.val - 2 * history["val_se"], rtol=1e-6)
    np.testing.assert_allclose(frame.val_high, history.val + 2 * history["val_se"], rtol=1e-6)
    assert frame.band_available and "±2 standard errors" in [entry.label for entry in frame.legend]
    assert frame.y_range[1] >= float(frame.val_high.max())  # the band is inside the axis


def test_no_band_without_standard_errors_and_none_while_turned_off():
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    for epoch in range(5):
        monitor.log(train=1.0 / (epoch + 1), val=1.0)
    frame = monitor._build_frame()
    assert frame.val_low.size == 0 and not frame.band_available
    assert all(entry.role != "band" for entry in frame.legend)
    monitor = run_per_example(lw.LiveLossMonitor(patience=None, display="none"))
    monitor.band = False
    frame = monitor._build_frame()
    assert frame.val_low.size == 0 and frame.band_available  # the toggle stays, to turn it back on
    assert '<path class="band"' not in render_svg(frame)
    with pytest.raises(TypeError, match="'band' must be"):
        monitor.band = "yes"


def test_on_a_log_axis_the_band_stays_drawable():
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    monitor.log(val=np.array([0.0, 0.0, 0.0, 3.0]))  # mean 0.75, standard error 0.75: a low end below 0
    monitor.log_scale = True
    frame = monitor._build_frame()
    assert frame.val_low[0] > 0 and math.isclose(frame.val_low[0], 0.075, rel_tol=1e-5)


def test_the_svg_fills_the_band_under_the_curves():
    monitor = run_per_example(lw.LiveLossMonitor(patience=None, display="none"))
    svg = render_svg(monitor._build_frame())
    band = re.search(r'<path class="band" d="M([^"]+) Z" fill="([^"]+)" fill-opacity="([\d.]+)"', svg)
    assert band and band.group(2) == "#d55e00" and 0.1 < float(band.group(3)) < 0.5
    assert len(band.group(1).split(" L")) == 2 * len(monitor.history)  # along the top, back along the bottom
    assert svg.index('class="band"') < svg.index('stroke-dasharray="7 4"')  # under the validation line
    assert "±2 standard errors" in svg
