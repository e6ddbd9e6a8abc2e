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
    assert "stopped (epoch 20)" in svg and "patience 5 would stop here" in svg and "best: epoch 10" in svg
    assert 'text-anchor="end"' in svg  # labels in the right half stay inside the plot
    assert "earlier run" in svg and "Stopped: enough." in svg


def test_nice_ticks():
    assert nice_ticks(0, 1) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert nice_ticks(-1, 29)[:3] == pytest.approx([0, 10, 20])
    assert nice_ticks(3, 3) == [3]
    ticks = np.array(nice_ticks(0.0123, 0.0456))
    assert ticks.min() >= 0.0123 and ticks.max() <= 0.0456


# -- every label inside the image, every run named ------------------------------------------------

LONG_NAMES = [f"run {k:02d}: width {2**k} dropout 0.{k} lr 0.001 ".ljust(40, "x")[:40] for k in range(12)]


def many_runs_monitor(names=LONG_NAMES, epochs=60):
    """A comparison of many long-named runs with metrics, a stepped live run whose best epoch is its last
    (at the plot's right edge), and a learning rate on small values (wide tick labels)."""
    monitor = lw.LiveLossMonitor(patience=None, display="none", name="a live run with a name as long as theirs")
    for k, name in enumerate(names):
        history = lw.History(name)
        for epoch in range(40):
            loss = 2 / (epoch + 1 + k) + 0.1
            history.log_epoch(epoch, {"train": loss, "val": loss + 0.1 + 0.002 * k * epoch, "acc": 0.5 + 0.01 * epoch})
        monitor.add_run(history)
    for epoch in range(epochs):
        for step in range(5):
            monitor.log_step(train=2.3 * math.exp(-epoch / 40) + 0.01 * step)
        monitor.log(train=2.3 * math.exp(-epoch / 40), val=2.35 * math.exp(-epoch / 45), acc=0.5 + 0.005 * epoch)
    return monitor


def text_boxes(svg):
    """(text, left, top, right, bottom, rotated) of every <text>, measured as the layout measures it."""
    from losswidget.views.layout import text_width

    boxes = []
    for element in parse(svg).iter():
        if not element.tag.endswith("text") or element.tag.endswith("textPath"):
            continue
        text = element.text or ""
        size = 12.0
        width = text_width(text, size, bold=element.get("font-weight") == "bold")
        x, y = float(element.get("x")), float(element.get("y"))
        anchor = element.get("text-anchor", "start")
        start = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        rotated = "rotate(-90" in element.get("transform", "")
        if rotated:  # the axis titles: the text runs upwards, centred at y
            boxes.append((text, x - size, y - width / 2, x + 0.3 * size, y + width / 2, True))
        else:
            boxes.append((text, start, y - size, start + width, y + 0.3 * size, False))
    return boxes


def overlaps(a, b):
    return a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]


def test_every_label_lies_inside_the_image_and_every_run_is_named():
    svg = render_svg(many_runs_monitor()._build_frame())
    root = parse(svg)
    width, height = float(root.get("width")), float(root.get("height"))
    boxes = text_boxes(svg)
    outside = [box for box in boxes if box[1] < 0 or box[2] < 0 or box[3] > width or box[4] > height]
    assert not outside, outside
    texts = [box[0] for box in boxes]
    for name in LONG_NAMES:
        assert name in texts  # named in full: 40 characters fit a legend row
    legend = [box for box in boxes if box[0] in LONG_NAMES]
    assert not [(a[0], b[0]) for i, a in enumerate(legend) for b in legend[i + 1 :] if overlaps(a, b)]


def test_a_name_longer_than_the_image_is_shortened_inside_it_and_still_told_apart():
    names = ["a" * 150 + " first", "a" * 150 + " second"]
    svg = render_svg(many_runs_monitor(names, epochs=5)._build_frame())
    boxes = text_boxes(svg)
    assert all(0 <= box[1] and box[3] <= 720 for box in boxes)
    shortened = [box[0] for box in boxes if box[0].startswith("aaa")]
    assert len(shortened) == 2 and all("…" in text for text in shortened)
    assert shortened[0].endswith(" first") and shortened[1].endswith(" second")  # the end tells them apart


def test_the_best_label_at_the_right_edge_stays_inside_the_plot():
    frame = many_runs_monitor([], epochs=60)._build_frame()
    assert frame.best[0] == 59 and 59.5 <= frame.x_range[1] <= 61  # the best epoch is the last: room beside it
    svg = render_svg(frame)
    boxes = text_boxes(svg)
    (best,) = [box for box in boxes if box[0] == "best: epoch 59"]
    assert 0 < best[1] and best[3] <= 720 - 20  # inside the plot (its right edge)
    from losswidget.views.style import COLORS

    diamonds = [e.get("d") for e in parse(svg).iter() if e.tag.endswith("path") and e.get("fill") == COLORS["best"]]
    xs = [float(point.split(",")[0].lstrip("ML")) for d in diamonds for point in d.replace(" Z", "").split()]
    assert len(diamonds) == 2 and max(xs) <= 720 - 20  # the plot's whole diamond (and the legend's), not cut in half


def test_axis_titles_clear_of_their_tick_labels():
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    for epoch in range(30):
        monitor.log(train=1 / (epoch + 1), val=1.2 / (epoch + 1), lr=0.0012 * 0.92**epoch)
    frame = monitor._build_frame()
    assert len(frame.rate_ticks.labels()[0]) >= 5  # wide labels ("0.001", "0.0012")
    boxes = text_boxes(render_svg(frame))
    titles = [box for box in boxes if box[5]]
    assert {box[0] for box in titles} == {"loss", "learning rate"}
    ticks = [box for box in boxes if not box[5] and box[1] < 64 + 20]
    assert not [(t[0], b[0]) for t in titles for b in ticks if overlaps(t, b)]


def test_earlier_runs_show_their_training_curve_and_metrics_too():
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    for epoch in range(10):
        monitor.log(train=1 / (epoch + 1), val=1.5 / (epoch + 1), acc=0.1 * epoch)
    monitor.new_run("wider")
    for epoch in range(10):
        monitor.log(train=0.5 / (epoch + 1), val=0.9 / (epoch + 1), acc=0.2 + 0.05 * epoch)
    frame = monitor._build_frame()
    (past,) = frame.runs
    assert past.train.tolist() == pytest.approx([1 / (e + 1) for e in range(10)])  # training, besides validation
    assert past.metrics["acc"][1].tolist() == pytest.approx([0.1 * e for e in range(10)])
    svg = render_svg(frame)
    gray = 'stroke="#7f7f7f"'  # style.past_color(0)
    assert svg.count(f'{gray} stroke-width="1"') == 1  # its training curve, thin
    assert svg.count(f'{gray} stroke-width="1.5" stroke-opacity="0.8" stroke-dasharray') == 1  # validation, dashed
    assert svg.count(f'{gray} stroke-width="1.2"') == 1  # its accuracy, in the metric panel


def test_runs_of_one_setting_share_a_colour_and_each_seed_has_its_own_shade():
    """Lesson 14's chart drew "baseline, seed 0" and "weight decay, seed 1" in the same grey (six colours
    for nine earlier runs, by position). Colour is now the setting, shade the seed, and the legend says so;
    the widget's legend and lines take the same colours."""
    from losswidget.views.style import curve_color
    from losswidget.views.widget_html import legend_html

    names = [f"{setting}, seed {seed}" for setting in ("baseline", "weight decay") for seed in range(5)]
    monitor = lw.LiveLossMonitor(patience=None, display="none", name=names[0])
    for index, name in enumerate(names):
        if index:
            monitor.new_run(name)
        for epoch in range(6):
            monitor.log(train=1 / (epoch + 1), val=(1.5 + 0.01 * index) / (epoch + 1), acc=0.1 * epoch, f1=0.05 * epoch)
    frame = monitor._build_frame()
    assert [curve.name for curve in frame.runs] == names[:-1]
    colors = [curve_color(curve) for curve in frame.runs]
    assert len(set(colors)) == len(colors)  # no two earlier runs alike
    hues = [curve.hue for curve in frame.runs]
    assert hues == [0] * 5 + [1] * 4 and [curve.shade for curve in frame.runs] == [0, 1, 2, 3, 4, 0, 1, 2, 3]
    assert colors[0] == "#7f7f7f" and colors[5] == "#9467bd"  # each setting's first seed: its hue itself
    labels = [entry.label for entry in frame.legend]
    assert "colour: the setting; shade: the seed" in labels and all(name in labels for name in names[:-1])
    svg = render_svg(frame)
    assert all(f'stroke="{color}" stroke-width="1.5"' in svg for color in colors)  # each validation curve
    assert "colour: the setting; shade: the seed" in svg
    widget_legend = legend_html(frame)
    assert all(f"color: {color};" in widget_legend for color in colors)
    # Their metrics: which dash is which metric is said in the metric panel's key.
    assert "earlier runs, faint in their colours: acc solid, f1 dashed" in svg
    # Names without a seed keep a colour each, by position, as before.
    other = lw.LiveLossMonitor(patience=None, display="none", name="narrow")
    for name in ("wide", "wider", "widest"):
        other.log(train=1.0, val=1.2)
        other.new_run(name)
    other.log(train=1.0, val=1.2)
    assert [(curve.hue, curve.shade) for curve in other._build_frame().runs] == [(0, 0), (1, 0), (2, 0)]


def test_every_run_is_named_in_the_legend_the_current_one_too():
    monitor = lw.LiveLossMonitor(patience=None, display="none", name="narrow")
    for epoch in range(5):
        monitor.log(train=1 / (epoch + 1), val=1.5 / (epoch + 1))
    assert [entry.label for entry in monitor._build_frame().legend][:2] == ["train", "validation"]  # one run: no name
    monitor.new_run("wider")
    for epoch in range(5):
        monitor.log(train=0.5 / (epoch + 1), val=0.9 / (epoch + 1))
    frame = monitor._build_frame()
    labels = [entry.label for entry in frame.legend]
    assert "train, wider" in labels and "validation, wider" in labels and "narrow" in labels
    svg = render_svg(frame)
    assert "validation, wider" in svg and "narrow" in svg
    assert "earlier runs: dashed validation, thin solid train" in svg


def test_an_epochs_steps_are_centred_on_it_and_the_legend_says_so():
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    for _epoch in monitor.epochs(3):
        for step in range(4):
            monitor.log_step(train=1.0 - 0.1 * step)
        monitor.log(train=0.85, val=1.0)
    frame = monitor._build_frame()
    x = frame.steps_x.astype(np.float64)
    assert x.min() >= -0.5 and frame.x_range[0] == -0.5  # not from -1: epoch 0 is centred on 0
    for epoch in range(3):  # the epoch's mean is drawn at the mean x of its steps
        assert x[4 * epoch : 4 * epoch + 4].mean() == pytest.approx(epoch)
    labels = [entry.label for entry in frame.legend]
    assert labels[:2] == ["train (epoch mean)", "train, each step"]  # words, not jargon


def test_smoothing_keeps_the_raw_curves_and_says_how_much_it_lags():
    monitor = lw.LiveLossMonitor(patience=None, display="none", smoothing=5)
    for epoch in range(100):  # beyond the dots' limit: lines only
        monitor.log(train=1 / (epoch + 1) + 0.01 * (epoch % 3), val=1.2 / (epoch + 1) + 0.01 * (epoch % 2))
    frame = monitor._build_frame()
    notes = [entry.label for entry in frame.legend if entry.role == "note"]
    assert notes == ["smoothed: mean of the last 5 epochs (lags by 2 epochs); faint: raw"]
    monitor.smoothing = 3
    notes = [entry.label for entry in monitor._build_frame().legend if entry.role == "note"]
    assert notes == ["smoothed: mean of the last 3 epochs (lags by 1 epoch); faint: raw"]  # one epoch, singular
    svg = render_svg(frame)
    assert svg.count('stroke-width="1" stroke-opacity="0.35"') == 2  # raw train and validation, faint


def test_the_loss_axis_names_the_loss_and_fits_metrics_say_they_are_validations():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    x, y = torch.randn(96, 4), torch.randint(0, 3, (96,))
    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x[:64], y[:64]), batch_size=16)
    val = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x[64:], y[64:]), batch_size=32)
    model = torch.nn.Linear(4, 3)
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    lw.fit(model, train, val, torch.nn.CrossEntropyLoss(), optimizer, 2, monitor=monitor, metrics={"acc": lw.accuracy})
    frame = monitor._build_frame()
    assert frame.y_label == "cross-entropy loss" and frame.metric_labels == {"acc": "val acc"}
    svg = render_svg(frame)
    assert ">cross-entropy loss</text>" in svg and ">val acc</text>" in svg
    monitor.log_scale = True
    assert monitor._build_frame().y_label == "cross-entropy loss (log)"


def test_a_loss_name_given_is_kept_and_a_bad_one_refused():
    monitor = lw.LiveLossMonitor(display="none", loss_name="MSE")
    assert monitor._build_frame().y_label == "MSE loss"
    for bad in ("", "x" * 41, 3):
        with pytest.raises(ValueError, match="'loss_name' must be None or a non-empty string"):
            lw.LiveLossMonitor(display="none", loss_name=bad)
        with pytest.raises(ValueError, match="'loss_name'"):
            monitor.loss_name = bad
    assert monitor.loss_name == "MSE"  # a refused value changes nothing
    with pytest.raises(ValueError, match="'metric_source' must be one of 'validation', 'training': 'test'"):
        monitor.metric_source = "test"
    monitor.metric_source = "training"
    monitor.log(train=1.0, acc=0.5, train_acc=0.4)
    assert monitor._build_frame().metric_labels == {"acc": "train acc", "train_acc": "train_acc"}


def test_a_diverged_runs_log_axis_labels_a_few_decades_that_never_overlap():
    monitor = lw.LiveLossMonitor(patience=None, display="none", check_finite=False)
    monitor.settings.log_y = True
    for epoch in range(20):  # from 1e-6 to 1e32: a run that blew up
        monitor.log(train=1e-6 * 100.0**epoch, val=1e-5 * 100.0**epoch)
    frame = monitor._build_frame()
    values = frame.y_ticks.values
    assert 3 <= len(values) <= 7
    exponents = [math.log10(value) for value in values]
    assert all(e.is_integer() for e in exponents) and len(set(np.diff(exponents))) == 1
    labels = [box for box in text_boxes(render_svg(frame)) if box[0] in frame.y_ticks.labels()]
    assert len(labels) == len(values) and not [(a, b) for a in labels for b in labels if a < b and overlaps(a, b)]


def test_an_accuracy_ending_near_one_gets_the_one_tick():
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    for epoch in range(12):
        monitor.log(train=1 / (epoch + 1), val=1.2 / (epoch + 1), acc=min(0.99, 0.6 + 0.04 * epoch))
    frame = monitor._build_frame()
    assert frame.metric_ticks.labels()[-1] == "1.0" and frame.metric_range[1] >= 1.0  # the top, labelled
    assert frame.metric_ticks.values[0] <= 0.6 <= frame.metric_range[0] + 0.05  # the bottom unchanged
    assert ">1.0</text>" in render_svg(frame)


def test_a_lag_of_one_epoch_is_one_epoch_not_one_epochs():
    """The review: "lags by 1 epochs" under a 3-epoch smoothing."""
    monitor = lw.LiveLossMonitor(patience=None, display="none", smoothing=3)
    for epoch in range(20):
        monitor.log(train=1 / (epoch + 1), val=1.2 / (epoch + 1))
    notes = [entry.label for entry in monitor._build_frame().legend if entry.role == "note"]
    assert notes == ["smoothed: mean of the last 3 epochs (lags by 1 epoch); faint: raw"]
