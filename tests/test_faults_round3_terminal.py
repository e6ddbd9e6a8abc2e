"""Nothing lost, third round: the terminal line on a stream that cannot take it, the watcher's
interval, a CSV with a byte-order mark, and fit's checks for a new user.

Each stream case is a real training process (``LiveLossMonitor(display="text")``) whose standard
output is a pipe closed by ``head -1``, ``/dev/full``, a descriptor closed mid-run, an ASCII-only
encoding, or an object with only ``write()``: the run must finish with its whole history, and a
display that fails is turned off with one ``losswidget:`` warning. Every process is bounded by a
timeout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import losswidget as lw
from losswidget.core.history_files import HistoryFileError
from losswidget.watching import RunWatcher

pytestmark = pytest.mark.timeout(300)

TIMEOUT = 120
EPOCHS = 70
# Long enough (about 3.5 s) that the plain line, printed every 2 s, is written again after the
# stream has failed: the first line goes out at the loop's start.
TRAIN = """
import json, os, sys, time
import losswidget as lw
out, how = sys.argv[1], sys.argv[2]
if how == "write-only":
    class WriteOnly:  # the least a stream can be: no flush, no isatty, no encoding
        def __init__(self):
            self.parts = []
        def write(self, text):
            self.parts.append(text)
            return len(text)
    sys.stdout = WriteOnly()
monitor = lw.LiveLossMonitor(patience=None, display="text", name="run")
for epoch in monitor.epochs({epochs}):
    if how == "close" and epoch == 5:
        os.close(1)  # the descriptor under sys.stdout goes away mid-run
    monitor.log(train=1 / (epoch + 1), val=1.2 / (epoch + 1) + 0.001 * epoch)
    time.sleep(0.05)
shown = "".join(sys.stdout.parts) if how == "write-only" else None
sys.stdout = sys.__stdout__
with open(out, "w") as stream:
    json.dump({{"epochs": monitor.history.epochs.tolist(), "val": monitor.history.val.tolist(), "shown": shown}}, stream)
"""


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(TRAIN.format(epochs=EPOCHS)))
    return path


def finished(out) -> dict:
    """The run's record: it exists only if training reached its end; every epoch is in it."""
    assert out.exists(), "the training did not finish"
    result = json.loads(out.read_text())
    assert result["epochs"] == list(range(EPOCHS))
    assert result["val"][-1] == pytest.approx(1.2 / EPOCHS + 0.001 * (EPOCHS - 1))
    return result


def turned_off_once(stderr: str, cause: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert stderr.count("losswidget: the progress text is off") == 1, stderr
    located = stderr.split("UserWarning: losswidget: the progress text is off")[0].splitlines()[-1]
    assert "train.py:" in located, stderr  # said at the script's line, not inside losswidget
    assert cause in stderr and "display='none'" in stderr


def test_a_pipe_closed_by_head_costs_nothing(script, tmp_path):
    out = tmp_path / "out.json"
    command = f'set -o pipefail; "{sys.executable}" "{script}" "{out}" plain | head -1'
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr  # pipefail: python's own status, 0 (its final flush too)
    assert done.stdout.startswith("Epoch 0 of epochs 0–69") and done.stdout.count("\n") == 1
    finished(out)
    turned_off_once(done.stderr, "'| head'")


def test_standard_output_on_dev_full_costs_nothing(script, tmp_path):
    out = tmp_path / "out.json"
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, str(script), str(out), "plain"], stdout=full, stderr=subprocess.PIPE, text=True,
            timeout=TIMEOUT,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    finished(out)
    turned_off_once(done.stderr, "No space left on device")


def test_a_descriptor_closed_mid_run_costs_nothing(script, tmp_path):
    out = tmp_path / "out.json"
    done = subprocess.run(
        [sys.executable, str(script), str(out), "close"], capture_output=True, text=True, timeout=TIMEOUT
    )
    finished(out)
    assert done.stdout.startswith("Epoch 0 of epochs 0–69")  # written before the descriptor closed
    turned_off_once(done.stderr, "Bad file descriptor")


@pytest.mark.parametrize("terminal_encoding", ["ascii", "latin-1"])
def test_an_encoding_without_the_symbols_gets_them_in_ascii(script, tmp_path, terminal_encoding):
    out = tmp_path / "out.json"
    env = {**os.environ, "PYTHONIOENCODING": terminal_encoding}
    done = subprocess.run(
        [sys.executable, str(script), str(out), "plain"], capture_output=True, timeout=TIMEOUT, env=env
    )
    finished(out)
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")
    shown = done.stdout.decode("ascii")  # nothing but ASCII came out
    assert shown.startswith("Epoch 0 of epochs 0-69 | elapsed")
    assert "Finished 70 epochs." in shown and "  Diagnosis:" in shown


def test_a_stream_with_only_write_shows_the_run(script, tmp_path):
    out = tmp_path / "out.json"
    done = subprocess.run(
        [sys.executable, str(script), str(out), "write-only"], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0 and "losswidget:" not in done.stderr, done.stderr
    shown = finished(out)["shown"]
    assert shown.startswith("Epoch 0 of epochs 0–69 · elapsed") and "Finished 70 epochs." in shown


def test_no_standard_output_at_all_costs_nothing(script, tmp_path):
    out = tmp_path / "out.json"
    command = f'"{sys.executable}" "{script}" "{out}" plain >&-'
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    finished(out)
    turned_off_once(done.stderr, "there is no standard output")


# -- the watcher's interval -------------------------------------------------------------------


def test_an_interval_no_thread_can_wait_is_refused_and_an_hour_is_followed(tmp_path):
    log = tmp_path / "run.jsonl"
    before = threading.active_count()
    for interval in (1e10, 1e6, 3601.0):
        with pytest.raises(ValueError, match=r"'interval' must be <= 3600 seconds \(an hour\): .*poll\(\)"):
            lw.watch(log, interval=interval, display="none")
        with pytest.raises(ValueError, match="'interval' must be <= 3600"):
            RunWatcher([log], interval=interval, display="none")
    assert threading.active_count() == before  # no thread started
    monitor = lw.LiveLossMonitor(patience=None, log_file=log, display="none")
    watcher = lw.watch(log, interval=3600, display="none")
    try:
        monitor.log(train=1.0, val=0.5)
        watcher.poll()
        assert len(watcher.history) == 1
        assert watcher._thread.is_alive()  # waiting an hour, not dead of an OverflowError
    finally:
        watcher.close()
    assert not watcher._thread.is_alive()


# -- a CSV saved by Excel ----------------------------------------------------------------------


def test_a_csv_with_a_byte_order_mark_and_crlf_loads(tmp_path):
    history = lw.History()
    for epoch in range(4):
        history.log_epoch(epoch, {"train": 1 / (epoch + 1), "val": 0.5 + 0.01 * epoch, "acc": 0.7 + 0.01 * epoch})
    plain = history.save(tmp_path / "plain.csv")
    excel = tmp_path / "excel.csv"  # Excel's "CSV UTF-8": a byte-order mark, lines ending in CRLF
    excel.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes().replace(b"\n", b"\r\n"))
    loaded = lw.History.load(excel)
    assert loaded.metric_names == ["acc"]
    for name in ("train", "val", "acc"):
        np.testing.assert_array_equal(loaded[name], history[name])
    np.testing.assert_array_equal(loaded.epochs, history.epochs)
    excel.write_bytes(b"\xef\xbb\xbf")  # a mark and nothing else is still no history
    with pytest.raises(HistoryFileError, match="not a losswidget history"):
        lw.History.load(excel)


# -- fit for a new user -------------------------------------------------------------------------

torch = pytest.importorskip("torch")


def loaders():
    torch.manual_seed(0)
    x = torch.randn(64, 1)
    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, x), batch_size=16)
    val = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, -x), batch_size=16)  # gets worse
    return train, val


class HuberLoss(torch.nn.Module):
    def forward(self, outputs, targets):
        return torch.nn.functional.huber_loss(outputs, targets)


@pytest.mark.parametrize(
    ("loss_class", "name"),
    [(torch.nn.MSELoss, "torch.nn.MSELoss"), (torch.nn.CrossEntropyLoss, "torch.nn.CrossEntropyLoss"),
     (HuberLoss, f"{__name__}.HuberLoss")],
)  # fmt: skip
def test_a_loss_class_instead_of_an_instance_is_named_before_training(loss_class, name):
    train, val = loaders()
    model = torch.nn.Linear(1, 1)
    before = {key: value.clone() for key, value in model.state_dict().items()}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    message = f"fit(): 'loss_fn' is the class {name}: pass an instance, {name}()"
    with pytest.raises(TypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        lw.fit(model, train, val, loss_class, optimizer, 3)
    assert all(torch.equal(before[key], value) for key, value in model.state_dict().items())  # not trained
    with pytest.raises(TypeError, match=r"evaluate\(\): 'loss_fn' is the class"):
        lw.evaluate(model, val, loss_class)


def test_fits_closing_words_say_what_a_fit_user_can_do(capsys):
    train, val = loaders()
    model = torch.nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    history = lw.fit(model, train, val, torch.nn.MSELoss(), optimizer, 3)  # fit makes the monitor
    assert history.best_epoch() == 0 and len(history) == 3  # finished, the best epoch not the last
    shown = capsys.readouterr().out
    assert "monitor.restore_best() loads" not in shown  # a fit user has no monitor
    assert (
        f"Finished 3 epochs. Best validation loss {lw.core.words.number(history.val[0])} at epoch 0: the model keeps the last epoch's weights; to load the best "
        "epoch's, pass monitor=lw.LiveLossMonitor(model=model) to fit and call monitor.restore_best() after it"
    ) in shown
    # With a monitor of their own, the words name it, and restore_best() does what they say.
    monitor = lw.LiveLossMonitor(model=model, display="text")
    lw.fit(model, train, val, torch.nn.MSELoss(), optimizer, 3, monitor=monitor)
    assert f"at epoch {monitor.best_epoch}: monitor.restore_best() loads its weights" in (capsys.readouterr().out)
