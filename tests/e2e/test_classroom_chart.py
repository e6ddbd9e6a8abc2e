"""The chart as a classroom reads it, in JupyterLab in Chromium: light and dark theme, tick labels
that never overlap, a loss axis that never goes below 0, Stop's state, and Stop from the keyboard."""

from __future__ import annotations

import itertools
import re
import time

import pytest

TRAINING = """
import math, time, losswidget as lw
monitor = lw.LiveLossMonitor(patience=None, name="classroom")
monitor
"""

LOOP = """
for epoch in monitor.epochs({epochs}):
    for step in range(4):
        monitor.log_step(train=0.05 + 1.0 / (epoch + 1) + 0.01 * step)
    monitor.log(train=0.05 + 1.0 / (epoch + 1), val=0.2 + 0.001 * (epoch - 40) ** 2 / 10,
                acc=0.85 + 0.1 * epoch / {epochs})
    time.sleep({pause})
print("ENDED", epoch, monitor.stop_code)
"""

CONTRAST = """
([selector, background]) => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
  const lum = c => { const v = rgb(c).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
                     return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const bg = getComputedStyle(document.querySelector(background)).backgroundColor;
  return Array.from(document.querySelectorAll(selector)).map(e => {
    const style = getComputedStyle(e);
    const fg = e.tagName.toLowerCase() === 'text' ? style.fill : style.color;
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return [(a + 0.05) / (b + 0.05), fg, bg];
  });
}
"""


def tick_boxes(nb, figure: int) -> dict[str, list[dict]]:
    """The tick labels of each axis of one bqplot figure: text and bounding box."""
    return nb.page.evaluate(
        """figure => {
          const svg = document.querySelectorAll('.losswidget .bqplot')[figure];
          const out = {};
          svg.querySelectorAll('g.axis').forEach((axis, i) => {
            out[i] = Array.from(axis.querySelectorAll('.tick text')).map(t => {
              const b = t.getBoundingClientRect();
              return {text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height};
            }).filter(t => t.text && t.w > 0);
          });
          return out;
        }""",
        figure,
    )


def overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    return [
        (a["text"], b["text"])
        for a, b in itertools.combinations(boxes, 2)
        if a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    ]


def set_theme(nb, theme: str) -> None:
    nb.page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands", timeout=60_000)
    nb.page.evaluate("t => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", theme)
    nb.page.wait_for_function("t => document.body.dataset.jpThemeName === t", arg=theme, timeout=30_000)


def finished_in_theme(notebook, cells: list[str], theme: str | None, finished: str):
    """Run ``cells`` in JupyterLab (in ``theme``; None: the default) until the loop ended and the status
    says ``finished``."""
    nb = notebook(cells)
    if theme is not None:
        set_theme(nb, theme)
    nb.run_all()
    nb.wait_for_output("ENDED", timeout=90)
    nb.wait_for_status(finished)
    time.sleep(1.0)  # the last frame's messages
    return nb


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_a_finished_chart_reads_well_in_light_and_dark(notebook, theme):
    nb = finished_in_theme(notebook, [TRAINING, LOOP.format(epochs=120, pause=0.0)], theme, r"Finished 120 epochs")
    nb.screenshot(theme.split()[-1].lower())
    for figure in (0, 1):  # the loss chart and the metrics panel
        labelled = {axis: boxes for axis, boxes in tick_boxes(nb, figure).items() if boxes}
        assert len(labelled) == 2, f"figure {figure}: {labelled}"  # x and y
        for axis, boxes in labelled.items():
            assert len(boxes) >= 2, f"figure {figure} axis {axis} shows {len(boxes)} tick labels"
            assert not overlapping(boxes), f"figure {figure} axis {axis}: overlapping {overlapping(boxes)}"
    loss_ticks = [float(b["text"]) for b in tick_boxes(nb, 0)["1"]]
    assert loss_ticks and min(loss_ticks) >= 0, f"the loss axis shows {loss_ticks}"  # never below 0
    stop = nb.page.locator('.losswidget button:has-text("Finished")')
    assert stop.count() == 1 and stop.is_disabled()
    # On the theme's background: text at WCAG AA (4.5:1), the legend's swatches as graphics (3:1).
    for selector, least in (
        (".losswidget .bqplot .tick text", 4.5),
        (".losswidget .bqplot text.axislabel", 4.5),
        (".losswidget-status div", 4.5),
        (".losswidget-legend > span", 4.5),
        (".losswidget-legend [aria-hidden]", 3.0),
    ):
        ratios = nb.page.evaluate(CONTRAST, [selector, ".jp-Notebook"])
        assert ratios, f"nothing matches {selector}"
        assert min(r[0] for r in ratios) >= least, f"{theme}: {selector} contrast {min(ratios)}"


def test_stop_from_the_keyboard_during_a_blocking_loop(notebook):
    nb = notebook([TRAINING, LOOP.format(epochs=2000, pause=0.02)])
    nb.run_all()
    nb.wait_for_status(r"Epoch \d+ of epochs 0–1999")
    nb.page.locator(".losswidget-legend").first.click()  # somewhere in the widget, before its controls
    for _ in range(40):
        nb.page.keyboard.press("Tab")
        focused = nb.page.evaluate("() => document.activeElement && document.activeElement.innerText || ''")
        if focused.strip() == "Stop":
            break
    else:
        raise AssertionError("Tab never reached the Stop button")
    name = nb.page.evaluate(
        "() => { const e = document.activeElement; return e.getAttribute('aria-label') || e.title || e.innerText; }"
    )
    assert "Stop" in name  # an accessible name
    nb.page.keyboard.press("Enter")
    text = nb.wait_for_output("ENDED", timeout=30)
    epoch = int(re.search(r"ENDED (\d+) StopReason.USER", text).group(1))
    assert epoch < 1999
    assert nb.page.locator('.losswidget button:has-text("Stopped at epoch")').is_disabled()


def test_presentation_size_is_large_and_still_tidy(notebook):
    presenting = TRAINING.replace('name="classroom"', 'name="classroom", presentation=True')
    nb = finished_in_theme(notebook, [presenting, LOOP.format(epochs=60, pause=0.0)], None, r"Finished 60 epochs")
    sizes = nb.page.evaluate(
        "() => Array.from(document.querySelectorAll('.losswidget .bqplot .tick text'))"
        ".map(t => parseFloat(getComputedStyle(t).fontSize))"
    )
    assert sizes and min(sizes) >= 20
    labels = nb.page.evaluate(
        "() => Array.from(document.querySelectorAll('.losswidget .bqplot text.axislabel'))"
        ".map(t => parseFloat(getComputedStyle(t).fontSize))"
    )
    assert len(labels) >= 3 and min(labels) >= 20, f"axis labels at {labels} px"  # loss, epoch, metrics
    cut = nb.page.evaluate(
        "() => Array.from(document.querySelectorAll('.losswidget .bqplot text.axislabel')).filter(t => {"
        " const r = t.getBoundingClientRect(), f = t.closest('svg').getBoundingClientRect();"
        " return r.width && (r.bottom > f.bottom + 1 || r.top < f.top - 1 || r.left < f.left - 1); })"
        ".map(t => t.textContent)"
    )
    assert cut == [], f"axis labels cut off at the figure's edge: {cut}"
    assert (
        float(nb.page.evaluate("() => getComputedStyle(document.querySelector('.losswidget-status')).fontSize")[:-2])
        >= 20
    )
    height = nb.page.evaluate(
        "() => document.querySelectorAll('.losswidget .bqplot')[0].getBoundingClientRect().height"
    )
    assert height >= 500
    for figure in (0, 1):
        for axis, boxes in tick_boxes(nb, figure).items():
            assert not overlapping(boxes), f"figure {figure} axis {axis}: overlapping {overlapping(boxes)}"
    nb.screenshot("presentation")


BAND_RUN = """
import numpy as np, losswidget as lw
rng = np.random.default_rng(0)
base = rng.gamma(2.0, 0.25, 200)
monitor = lw.LiveLossMonitor(patience=None, name="per-example validation")
monitor
"""

BAND_LOOP = """
for epoch in monitor.epochs(40):
    monitor.log(train=0.3 + 1 / (epoch + 1), val=base + 0.3 + 0.0015 * (epoch - 15) ** 2 + rng.normal(0, 0.05, 200))
print("ENDED", epoch)
"""

# The band as drawn (bqplot's filled area) and the blended colour it gives on the theme's background:
# the validation line over it must keep 3:1 (a graphic), and the band must differ from the background.
FILLED = (  # bqplot gives every line an area path: the band's is the one filled and shown
    "Array.from(document.querySelectorAll('.losswidget .bqplot path.area'))"
    ".filter(p => p.checkVisibility({visibilityProperty: true}) && getComputedStyle(p).fill !== 'none'"
    " && Number(getComputedStyle(p).opacity) > 0 && p.getBoundingClientRect().height > 0)"
)
BAND_CONTRAST = """
() => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
  const lum = v => { v = v.map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
                     return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const area = __FILLED__[0];
  if (!area) return null;
  const style = getComputedStyle(area);
  const fill = rgb(style.fill), alpha = Number(style.opacity) * Number(style.fillOpacity || 1);
  const bg = rgb(getComputedStyle(document.querySelector('.jp-Notebook')).backgroundColor);
  const blended = fill.map((c, i) => alpha * c + (1 - alpha) * bg[i]);
  const dashed = Array.from(document.querySelectorAll('.losswidget .bqplot path.line'))
    .map(p => getComputedStyle(p))
    .find(s => s.strokeDasharray && s.strokeDasharray !== 'none' && s.stroke === 'rgb(213, 94, 0)');  // validation
  return {height: area.getBoundingClientRect().height, alpha,
          line_over_band: ratio(rgb(dashed.stroke), blended), band_on_background: ratio(blended, bg)};
}
"""


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_the_validation_band_is_drawn_and_legible_in_light_and_dark(notebook, theme):
    nb = finished_in_theme(notebook, [BAND_RUN, BAND_LOOP], theme, r"Finished 40 epochs")
    band = nb.page.evaluate(BAND_CONTRAST.replace("__FILLED__", FILLED))
    assert band is not None, "no filled band in the chart"
    assert band["height"] > 10 and 0 < band["alpha"] < 0.5, band
    assert band["line_over_band"] >= 3.0, f"{theme}: the validation line over the band: {band}"
    assert band["band_on_background"] >= 1.1, f"{theme}: the band is invisible: {band}"
    legend = nb.page.locator(".losswidget-legend").inner_text()
    assert "±2 standard errors" in legend
    toggle = nb.page.locator('.losswidget button:has-text("± 2 SE")')
    assert toggle.count() == 1 and toggle.is_visible()
    nb.page.locator(".losswidget").first.screenshot(path=str(nb.screenshot(theme.split()[-1].lower())))
    toggle.click()  # the kernel is idle: the frame is redrawn without the band
    nb.page.wait_for_function(
        "() => !document.querySelector('.losswidget-legend').innerText.includes('standard errors')", timeout=15_000
    )
    shown = nb.page.evaluate(f"() => {FILLED}.length")
    assert shown == 0, "the band is still drawn after the toggle"


RATE_RUN = """
import torch, losswidget as lw
torch.manual_seed(0)
x = torch.randn(256, 8)
y = x @ torch.randn(8, 1) + 0.3 * torch.randn(256, 1)
model = torch.nn.Linear(8, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.2)
monitor = lw.LiveLossMonitor(patience=None, optimizer=optimizer, name="a step schedule")
monitor
"""

RATE_LOOP = """
for epoch in monitor.epochs(30):
    loss = torch.nn.functional.mse_loss(model(x[:192]), y[:192])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        monitor.log(train=loss, val=torch.nn.functional.mse_loss(model(x[192:]), y[192:]))
    scheduler.step()
print("ENDED", epoch)
"""


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_the_learning_rate_panel_and_its_changes_on_the_loss_chart(notebook, theme):
    """Real training with a step schedule: the rate on its own log-scale panel (the third figure, under
    the metrics one), each cut marked on the loss chart, legible (3:1, as a graphic) in both themes."""
    nb = finished_in_theme(notebook, [RATE_RUN, RATE_LOOP], theme, r"Finished 30 epochs")
    figures = nb.page.locator(".losswidget .bqplot")
    assert figures.count() == 3 and figures.nth(2).is_visible() and not figures.nth(1).is_visible()
    assert "learning rate" in figures.nth(2).locator("text.axislabel").all_text_contents()
    rate_ticks = tick_boxes(nb, 2)
    assert all(not overlapping(boxes) for boxes in rate_ticks.values())
    assert {"0.1", "0.01"} <= {box["text"] for boxes in rate_ticks.values() for box in boxes}
    marks = figures.nth(0).locator("text", has_text="lr ×")
    assert marks.all_text_contents() == ["lr ×0.2", "lr ×0.2"]
    ratios = nb.page.evaluate(CONTRAST, [".losswidget .bqplot text.label.element", ".jp-Notebook"])
    rate_labels = [ratio for ratio in ratios if ratio[1] == "rgb(0, 158, 115)"]  # style.COLORS["rate"]
    assert len(rate_labels) == 2 and min(r[0] for r in rate_labels) >= 3.0, f"{theme}: {rate_labels}"
    nb.page.locator(".losswidget").first.screenshot(path=str(nb.screenshot("rate-" + theme.split()[-1].lower())))


MANY_RUNS = """
import math, time, losswidget as lw
names = [f"run {k:02d}: width {2 ** k} dropout 0.{k} lr 0.001 ".ljust(40, "x")[:40] for k in range(12)]
monitor = lw.LiveLossMonitor(patience=None, name="twelve earlier runs", loss_name="MSE")
for k, name in enumerate(names):
    history = lw.History(name)
    for epoch in range(40):
        loss = 2 / (epoch + 1 + k) + 0.1
        history.log_epoch(epoch, {"train": loss, "val": loss + 0.1 + 0.002 * k * epoch, "acc": 0.5 + 0.01 * epoch})
    monitor.add_run(history)
monitor
"""

MANY_RUNS_LOOP = """
for epoch in monitor.epochs(60):
    for step in range(4):
        monitor.log_step(train=30.0 / (epoch + 1) ** 2 + 0.3 + 0.01 * step)
    monitor.log(train=30.0 / (epoch + 1) ** 2 + 0.3, val=30.0 / (epoch + 1) ** 2 + 0.35 + 0.002 * (epoch - 8) ** 2,
                acc=0.5 + 0.005 * epoch)
    time.sleep(0.12)  # ~7 s: long enough to watch the axis move on a busy machine
print("ENDED", epoch)
"""

INSIDE = """
() => {
  const root = document.querySelector('.losswidget').getBoundingClientRect();
  const outside = (r, box) => r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
                              || r.bottom > box.bottom + 1;
  const legend = Array.from(document.querySelectorAll('.losswidget-legend > span')).map(e => {
    const r = e.getBoundingClientRect();
    return {text: e.textContent.trim(), out: outside(r, root), width: r.width};
  });
  const labels = [];
  document.querySelectorAll('.losswidget .bqplot').forEach((figure, index) => {
    const box = figure.querySelector('svg').getBoundingClientRect();
    figure.querySelectorAll('text.label, text.axislabel').forEach(t => {
      if (!t.textContent || !t.checkVisibility({visibilityProperty: true})) return;
      const b = t.getBBox(), r = t.getBoundingClientRect();
      labels.push({figure: index, text: t.textContent, bbox: b.width * b.height, out: outside(r, box)});
    });
  });
  return {legend, labels};
}
"""


def test_every_run_is_named_and_every_label_stays_inside_the_widget(notebook):
    """Twelve earlier runs with 40-character names: each named in the legend, every legend entry and
    every label of the charts (markers, axis titles) inside the widget; tick labels never repeat while
    the axis follows a falling loss, and the axes say which loss and whose accuracy."""
    nb = notebook([MANY_RUNS, MANY_RUNS_LOOP])
    nb.run_all()
    nb.wait_for_status(r"Epoch \d+ of epochs 0–59", timeout=90)
    seen, deadline = [], time.monotonic() + 120
    while "ENDED" not in nb.output_text():  # mid-run: every tick label set the loss axis shows
        assert time.monotonic() < deadline, "the loop never ended"
        labels = [box["text"] for box in tick_boxes(nb, 0).get("1", [])]
        assert len(labels) == len(set(labels)), f"repeated tick labels mid-run: {labels}"
        seen.append(labels)
        time.sleep(0.2)
    assert len({tuple(labels) for labels in seen}) >= 2  # the axis moved while it was watched
    nb.wait_for_status(r"Finished 60 epochs")
    time.sleep(1.0)  # the last frame's messages
    placed = nb.page.evaluate(INSIDE)
    names = [f"run {k:02d}: width {2**k} dropout 0.{k} lr 0.001 ".ljust(40, "x")[:40] for k in range(12)]
    legend_texts = " | ".join(entry["text"] for entry in placed["legend"])
    assert all(name in legend_texts for name in names), legend_texts
    assert not [entry for entry in placed["legend"] if entry["out"]], placed["legend"]
    assert {"patience 5 would stop here", "MSE loss", "epoch"} <= {label["text"] for label in placed["labels"]}
    assert all(label["bbox"] > 0 for label in placed["labels"])
    assert not [label for label in placed["labels"] if label["out"]], placed["labels"]
    metric_legend = nb.page.locator(".losswidget .bqplot").nth(1).locator(".legendtext").all_text_contents()
    assert metric_legend == ["acc"]
    nb.page.locator(".losswidget").first.screenshot(path=str(nb.screenshot("many-runs")))
