"""The static chart: a well-formed SVG for every shape of history a run can leave."""

import math
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

import losswidget as lw
from losswidget.chart.marks import nice_ticks
from losswidget.views.svg import render_svg


def monitor_with(values, **kwargs):
    monitor = lw.LiveLossMonitor(display="none", check_finite=False, **kwargs)
    for epoch, (train, val) in enumerate(values):
        monitor.log(train=train, val=val, acc=epoch / 10)
    return monitor


def parse(svg):
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    return root


@pytest.mark.parametrize(
    "values",
    [
        [],
        [(1.0, 1.1)],
        [(2.0, 2.0)] * 5,
        [(1.0, 1.2), (math.nan, math.inf), (0.5, 0.7), (0.4, 0.8)],
        [(10.0**-e, 2 * 10.0**-e) for e in range(8)],
    ],
    ids=["empty", "one point", "constant", "non-finite", "decades"],
)
@pytest.mark.parametrize("log_y", [False, True])
def test_every_history_renders(values, log_y):
    monitor = monitor_with(values)
    monitor.log_scale = log_y
    svg = render_svg(monitor._build_frame())
    root = parse(svg)
    for element in root.iter():
        for name in ("x", "y", "cx", "cy", "x1", "x2", "y1", "y2"):
            if name in element.attrib:
                assert math.isfinite(float(element.attrib[name])), (name, element.attrib)
        if "points" in element.attrib:
            assert "nan" not in element.attrib["points"].lower()


def test_markers_steps_runs_and_status_are_drawn():
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    for epoch in monitor.epochs(30):
        for step in range(10):
            monitor.log_step(train=1.0 / (epoch + 1) + step * 0.01)
        monitor.log(val=0.1 + 0.05 * abs(epoch - 10))
        if epoch == 20:
            monitor.stop("enough")
    monitor.add_run(monitor.history.copy(), name="earlier run")
    svg = render_svg(monitor._build_frame())
    parse(svg)
    assert "stopped (epoch 20)" in svg and "patience 5 stops here" in svg and "best: epoch 10" in svg
    assert 'text-anchor="end"' in svg  # labels in the right half stay inside the plot
    assert "earlier run" in svg and "Stopped: enough." in svg


def test_nice_ticks():
    assert nice_ticks(0, 1) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert nice_ticks(-1, 29)[:3] == pytest.approx([0, 10, 20])
    assert nice_ticks(3, 3) == [3]
    ticks = np.array(nice_ticks(0.0123, 0.0456))
    assert ticks.min() >= 0.0123 and ticks.max() <= 0.0456
