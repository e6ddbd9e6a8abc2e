"""TensorBoard itself, served on 127.0.0.1 over the event files a monitor wrote while it trained, in
a real Chromium: the run's scalars are in the page and TensorBoard's own server gives back the values
and steps the monitor recorded (a screenshot lands in tests/e2e/artifacts/)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

import losswidget as lw

from .conftest import ARTIFACTS
from .lab import free_port

torch = pytest.importorskip("torch")
pytest.importorskip("tensorboard")


def _train(folder):
    """A real loop: a small regression net, SGD with a step schedule, the monitor writing TensorBoard."""
    torch.manual_seed(0)
    x = torch.randn(256, 8)
    y = x @ torch.randn(8, 1) + 0.1 * torch.randn(256, 1)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    monitor = lw.LiveLossMonitor(patience=None, display="none", optimizer=optimizer, tensorboard=folder, model=model)
    for _ in monitor.epochs(10):
        for batch in range(0, 192, 32):
            loss = torch.nn.functional.mse_loss(model(x[batch : batch + 32]), y[batch : batch + 32])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            monitor.log_step(train=loss)
        with torch.no_grad():
            monitor.log(val=torch.nn.functional.mse_loss(model(x[192:]), y[192:]))
        scheduler.step()
    return monitor.history


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture
def board(tmp_path):
    history = _train(tmp_path / "tb")
    port = free_port()
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(tmp_path / "tb")]
    command += ["--host", "127.0.0.1", "--port", str(port), "--load_fast", "false", "--reload_interval", "1"]
    log = open(tmp_path / "tensorboard.log", "w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if _get(f"{url}/data/plugin/scalars/tags"):
                    break
            except OSError:
                pass
            assert server.poll() is None, (tmp_path / "tensorboard.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "TensorBoard did not serve the run within 90 s"
            time.sleep(0.5)
        yield url, history
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_tensorboard_serves_the_monitors_run_with_its_values_and_shows_it(board, browser):
    url, history = board
    tags = _get(f"{url}/data/plugin/scalars/tags")
    run = next(iter(tags))  # the folder itself: TensorBoard names it "."
    assert {"loss/train", "loss/val", "loss/train_step", "epoch", "lr"} <= set(tags[run])

    def series(tag):
        query = urllib.parse.urlencode({"run": run, "tag": tag})
        return [(step, value) for _, step, value in _get(f"{url}/data/plugin/scalars/scalars?{query}")]

    val, rate = series("loss/val"), series("lr")
    assert [step for step, _ in val] == history.epochs.tolist() == [step for step, _ in rate]
    assert [value for _, value in val] == pytest.approx(history.val.tolist(), rel=1e-6)  # float32 in the file
    assert [value for _, value in rate] == pytest.approx([0.05 * 0.5 ** (e // 4) for e in range(10)], rel=1e-6)
    assert [step for step, _ in series("loss/train_step")] == list(range(history.n_steps))

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(f"{url}/#timeseries", wait_until="domcontentloaded")
        for tag in ("loss/val", "loss/train", "lr"):
            page.get_by_text(tag, exact=True).first.wait_for(timeout=60_000)
        page.get_by_role("combobox", name="Filter tags (regex)").fill("^(loss/val|lr)$")  # TensorBoard's own filter
        for tag in ("loss/val", "lr"):  # each tag's card holds a drawn line chart
            page.locator("scalar-card", has_text=tag).first.locator("line-chart").first.wait_for(timeout=60_000)
        page.keyboard.press("Escape")  # the filter's suggestions, off the cards' titles
        time.sleep(1.0)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "tensorboard_scalars.png"), full_page=True)
    finally:
        page.close()
