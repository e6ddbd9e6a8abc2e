"""The live widget in JupyterLab in Chromium, while a training cell is running.

Each test writes a notebook, runs it through the JupyterLab UI and asserts on the
DOM (the chart's SVG path data, the status text, the cell outputs). Screenshots go
to tests/e2e/artifacts/ to be looked at.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

SETUP = """
import time, torch, losswidget as lw
torch.manual_seed(0)
model = torch.nn.Linear(4, 1)
seen = {}

def val_curve(epoch, turn=8):
    return 0.2 + 0.05 * abs(epoch - turn) + 0.3 / (epoch + 1)

def train_one_epoch(epoch, steps=5, pause=0.02):
    for step in range(steps):
        time.sleep(pause)
        with torch.no_grad():
            model.weight += 0.01
        monitor.log_step(train=1.0 / (epoch + 1) + 0.02 * step)
    seen[epoch] = model.weight.detach().clone()
"""


def blocking_loop(epochs: int, extra: str = "", pause: float = 0.02, report: str = "monitor.stop_code") -> str:
    """A training cell: a blocking loop over ``monitor.epochs``, then one line saying how it ended."""
    return f"""
for epoch in monitor.epochs({epochs}):
    train_one_epoch(epoch, pause={pause})
    monitor.log(val=val_curve(epoch){extra})
print("ENDED", epoch, {report})
"""


REPORT = """
print("RESTORED", torch.equal(model.weight, seen[monitor.best_epoch]), "BEST", monitor.best_epoch)
"""


def test_stop_button_ends_a_blocking_loop_and_restores_best_weights(notebook):
    nb = notebook(
        [
            SETUP + "monitor = lw.LiveLossMonitor(patience=None, smoothing=2, model=model)\nmonitor",
            blocking_loop(1000, extra=", acc=min(1.0, epoch / 50)"),
            REPORT,
        ]
    )
    nb.run_all()
    nb.wait_for_widget()
    nb.wait_for_status(r"Epoch \d+ of epochs 0–999")
    # The chart draws new points while the cell runs. Polled, not slept: a clean-clone CI run on a
    # busy machine once showed only the legend's 2-point swatches for 2 s after the status moved.
    first = nb.wait_for_points(2)  # a data line, longer than any legend swatch
    nb.wait_for_points(first)
    nb.wait_for_status(r"Epoch (1[2-9]|[2-9]\d)")  # past the minimum at epoch 8
    assert "Stop and sliders are live while the cell runs (kernel subshells)" in nb.details()
    nb.screenshot("running")

    shown = int(re.search(r"Epoch (\d+)", nb.status()).group(1))
    nb.page.click('.losswidget button:has-text("Stop")')
    ended = int(nb.wait_for_output("ENDED", timeout=10).split("ENDED")[1].split()[0])
    # Counted in epochs (~0.1 s each), not seconds: the loop ends at the end of the epoch the
    # click reached, within the 2 s the product promises (measured: benchmarks/RESULTS.md).
    assert shown <= ended <= shown + 15, f"clicked around epoch {shown}, the loop ended at epoch {ended}"
    text = nb.wait_for_output("RESTORED", timeout=30)
    assert "StopReason.USER" in text and "RESTORED True BEST 8" in text
    status = nb.wait_for_status("Best weights")
    assert "Stopped: the Stop button was pressed. Best weights (epoch 8) restored." in status
    nb.screenshot("stopped")


def test_patience_slider_during_the_loop_changes_the_decision(notebook):
    nb = notebook(
        [
            SETUP + "monitor = lw.LiveLossMonitor(patience=20, model=model)\nmonitor",
            blocking_loop(200, pause=0.15, report="monitor.stopped_reason"),
        ]
    )
    nb.run_all()
    nb.wait_for_widget()
    # Before the minimum (epoch 8): the 17 presses land while the loop runs, and none of the values
    # they pass through (19 ... 4) can stop it before patience 3 would, at epoch 11. Pressed after
    # the minimum, on a busy machine a value on the way (4) decided first (seen in CI).
    nb.wait_for_status(r"Epoch [1-6]\b")
    handle = nb.page.locator(".losswidget .widget-slider:has-text('patience') .noUi-handle")
    handle.focus()
    for _ in range(17):  # 20 -> 3
        handle.press("ArrowLeft")
    text = nb.wait_for_output("ENDED", timeout=30)
    ended_at = int(text.split("ENDED")[1].split()[0])
    assert ended_at < 28, f"patience 20 would have run to epoch 28; stopped at {ended_at}"
    assert "(patience 3)" in text
    assert "best 0.233 at epoch 8" in text
    nb.screenshot("slider")


def test_kernel_interrupt_is_a_graceful_stop(notebook):
    nb = notebook(
        [
            SETUP + "monitor = lw.LiveLossMonitor(patience=None, model=model)\nmonitor",
            blocking_loop(1000),
            REPORT,
        ]
    )
    nb.run_all()
    nb.wait_for_widget()
    nb.wait_for_status(r"Epoch (1[2-9]|[2-9]\d)")
    nb.page.click(".jp-NotebookPanel-toolbar [data-command='notebook:interrupt-kernel']")  # the ■ in the toolbar
    text = nb.wait_for_output("RESTORED", timeout=30)
    said = "\n".join(line for line in text.splitlines() if re.match(r"(ENDED|RESTORED|KeyboardInterrupt)", line))
    assert "StopReason.INTERRUPTED" in said and "RESTORED True BEST 8" in said, said
    assert "KeyboardInterrupt" not in text, text[-3000:]
    assert "Stopped: the kernel was interrupted (■). Best weights (epoch 8) restored." in nb.wait_for_status("Stopped")
    nb.screenshot("interrupted")


def test_background_mode_returns_the_cell_and_stops_on_click(notebook):
    nb = notebook(
        [
            SETUP + "monitor = lw.LiveLossMonitor(patience=None, model=model)",
            """
def train():
    for epoch in monitor.epochs(1000):
        train_one_epoch(epoch)
        monitor.log(val=val_curve(epoch))
    return epoch

monitor.start(train)
print("CELL RETURNED")
""",
            "print('NEXT CELL RAN', monitor.running)",
            "print('WAITED', monitor.wait(), monitor.stop_code)",
        ]
    )
    nb.run_all()
    text = nb.wait_for_output("NEXT CELL RAN", timeout=60)
    assert "NEXT CELL RAN True" in text
    nb.wait_for_widget()
    nb.wait_for_status(r"Epoch (1[2-9]|[2-9]\d)")
    assert "Training runs in the background" in nb.details()  # the folded numbers say which way clicks go
    nb.page.click('.losswidget button:has-text("Stop")')
    text = nb.wait_for_output("WAITED", timeout=20)
    assert "StopReason.USER" in text
    nb.wait_for_status("Best weights \\(epoch 8\\) restored")
    nb.screenshot("background")


START_CONFIG = Path(__file__).resolve().parents[2] / "scripts" / "jupyter_server_config.json"


@pytest.mark.parametrize(
    ("config", "busy_share"),
    [(None, 0.85), (START_CONFIG, 0.98)],
    ids=["any JupyterLab (the kernel side alone)", "scripts/start.sh's server"],
)
def test_the_status_bar_says_busy_while_a_monitored_cell_runs_whatever_the_controls_do(
    notebook, servers, config, busy_share
):
    """Each widget message handled on a subshell is wrapped by ipykernel in a busy/idle of its own,
    and JupyterLab's status bar followed that idle: Busy in 22 of 69 samples while a cell ran and a
    slider moved. The monitor now publishes a busy after each such idle while its loop runs (the
    browser can still paint the idle in between: 65 of 69 measured), and start.sh's server no
    longer tracks widget messages' status at all. Idle again once the cell has ended."""
    nb = notebook([SETUP + "monitor = lw.LiveLossMonitor(patience=None, smoothing=2, model=model)\nmonitor",
                   blocking_loop(2000, pause=0.01)], servers(config=config))  # fmt: skip
    nb.run_all()
    nb.wait_for_widget()
    nb.wait_for_status(r"Epoch \d+ of epochs 0–1999")

    def kernel_status() -> str:
        text = nb.page.inner_text("#jp-main-statusbar")
        found = re.search(r"\|\s*(Busy|Idle|Connecting|Unknown|Starting|Restarting)", text)
        return found.group(1) if found else text

    deadline = time.monotonic() + 20  # the bar may lag behind the running cell on a loaded machine
    while kernel_status() != "Busy" and time.monotonic() < deadline:
        time.sleep(0.1)
    handle = nb.page.locator(".losswidget .widget-slider .noUi-handle").first  # the smoothing slider
    handle.focus()
    samples, deadline = [], time.monotonic() + 8
    while time.monotonic() < deadline:
        nb.page.keyboard.press("ArrowRight" if len(samples) % 6 < 3 else "ArrowLeft")  # a control message
        for _ in range(2):
            samples.append(kernel_status())
            time.sleep(0.1)
    nb.page.click('.losswidget button:has-text("Stop")')
    samples.append(kernel_status())
    nb.wait_for_output("ENDED", timeout=20)
    busy = samples.count("Busy")
    assert busy >= busy_share * len(samples), f"Busy in {busy} of {len(samples)} samples: {samples}"
    deadline = time.monotonic() + 20
    while kernel_status() != "Idle" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kernel_status() == "Idle"  # and truthful once the cell has ended
