"""Accessibility that can be checked without a browser: the palette under simulated colour-vision
deficiencies, validation told apart by more than colour, the static image described in words."""

import re

import numpy as np
import pytest

import losswidget as lw
from losswidget.chart.frame import StepCache, build_frame
from losswidget.views.style import COLORS, VAL_DASH
from losswidget.views.svg import render_svg

# Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB.
DEFICIENCIES = {
    "none": np.eye(3),
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
}


def lab(hex_color, deficiency):
    srgb = np.array([int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    linear = np.clip(DEFICIENCIES[deficiency] @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    xyz /= np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("deficiency", DEFICIENCIES)
def test_train_and_validation_colours_stay_apart_under_colour_vision_deficiencies(deficiency):
    # CIE76 distance; ~2.3 is just noticeable, 20+ reads as clearly different colours.
    distance = np.linalg.norm(lab(COLORS["train"], deficiency) - lab(COLORS["val"], deficiency))
    assert distance >= 20, f"train/validation only {distance:.1f} apart under {deficiency}"
    for mark in ("best", "stop"):  # the marks stand out from the white plot
        assert lab(COLORS[mark], deficiency)[0] < 85


def frame():
    history = lw.History("digits")
    for epoch in range(30):
        history.log_epoch(epoch, {"train": 1.0 / (epoch + 1), "val": 0.5 + 0.01 * (epoch - 12) ** 2 / 10})
    return build_frame(
        history, StepCache(100), smoothing=1, what_if=lw.EarlyStopping(5), best=(12, 0.5), title="digits",
        status=["30 epochs recorded.", "Diagnosis: validation loss has risen since epoch 12."],
    )  # fmt: skip


def test_validation_is_dashed_with_square_dots_in_the_static_image():
    svg = render_svg(frame())
    assert f'stroke="{COLORS["val"]}" stroke-width="2.5" stroke-opacity="1.0" stroke-dasharray="{VAL_DASH}"' in svg
    assert svg.count('width="5.0" height="5.0"') == 30  # the 30 validation dots are squares
    assert svg.count("<circle ") == 30  # and the 30 training dots circles


def test_the_static_image_has_a_title_and_a_description_for_screen_readers():
    svg = render_svg(frame())
    title = re.search(r'<title id="([^"]+)">(.*?)</title>', svg)
    desc = re.search(r'<desc id="([^"]+)">(.*?)</desc>', svg)
    assert title and desc and title.group(2) == "digits"
    assert f'aria-labelledby="{title.group(1)} {desc.group(1)}"' in svg and 'role="img"' in svg
    words = desc.group(2)
    assert "Lowest validation loss 0.5 at epoch 12" in words
    assert "Training loss from 1 at epoch 0 to 0.0333 at 29" in words
    assert "Diagnosis: validation loss has risen since epoch 12." in words


def test_the_widget_draws_validation_dashed_with_square_dots():
    from losswidget.chart.settings import ChartSettings
    from losswidget.views.base import Controls
    from losswidget.views.widget import WidgetView

    view = WidgetView(Controls(ChartSettings(1, 5), lambda: None, lambda: "monitor"))
    view.render(frame())
    assert view.val_line.line_style == "dashed" and view.epoch_lines.line_style == "solid"
    assert view.val_points.marker == "square" and view.train_points.marker == "circle"
    assert "╍" in view.legend.value  # the legend shows the dash too
