"""Nothing lost, second round: special files, a model on the meta device, odd step epochs and an
interrupted wait(). Every case is bounded by a timeout: none may hang."""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest

import losswidget as lw
from losswidget.core.history_files import HistoryFileError

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "run.jsonl"
    os.mkfifo(path)
    return path


def test_a_fifo_as_log_file_is_refused_at_once(fifo):
    refused: list[BaseException] = []

    def construct() -> None:
        try:
            lw.LiveLossMonitor(log_file=fifo, display="none")
        except BaseException as error:
            refused.append(error)

    worker = threading.Thread(target=construct, daemon=True)
    worker.start()
    worker.join(30)  # a bound on a hang, not a speed: opening the FIFO would wait for a reader forever
    assert not worker.is_alive(), "the constructor is waiting on the FIFO"
    with pytest.raises(ValueError, match=r"'log_file' .* is a FIFO, not a regular file"):
        raise refused[0]


def test_a_fifo_where_the_control_file_goes_never_blocks_the_loop(tmp_path):
    log = tmp_path / "run.jsonl"
    monitor = lw.LiveLossMonitor(patience=None, log_file=log, display="none")
    os.mkfifo(tmp_path / "run.control.json")  # a watcher's request file replaced by a FIFO
    for _ in monitor.epochs(5):
        for _ in range(100):
            monitor.log_step(train=1.0)
        monitor.log(train=1.0, val=1.0)
    assert len(monitor.history) == 5 and len(lw.History.load(log)) == 5


@pytest.mark.parametrize("where", ["log_file", "best_weights_file"])
def test_a_directory_or_a_symlink_loop_is_named_for_what_it_is(tmp_path, where):
    folder = tmp_path / "runs.jsonl"
    folder.mkdir()
    with pytest.raises((IsADirectoryError, ValueError), match=f"'{where}' .* is a (directory|folder)"):
        lw.LiveLossMonitor(display="none", **{where: folder})
    loop = tmp_path / "loop.jsonl"
    os.symlink(loop, loop)
    with pytest.raises(OSError, match=f"'{where}' .* cannot be used: Too many levels of symbolic links"):
        lw.LiveLossMonitor(display="none", **{where: loop})


def test_loading_a_directory_or_a_fifo_says_what_it_is(tmp_path, fifo):
    (tmp_path / "folder.jsonl").mkdir()
    with pytest.raises(IsADirectoryError, match="is a directory"):
        lw.History.load(tmp_path / "folder.jsonl")
    with pytest.raises(ValueError, match="is a FIFO"):
        lw.History.load(fifo)


def test_an_epoch_value_on_the_meta_device_is_refused_by_name_and_nothing_is_lost():
    torch = pytest.importorskip("torch")
    meta = torch.ones((), device="meta", requires_grad=True) * 2.0
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    for _ in monitor.epochs(1):
        monitor.log_step(train=torch.tensor(0.5))
        with pytest.raises(ValueError, match="'val' is a tensor on the 'meta' device: it has a shape but no value"):
            monitor.log(train=1.0, val=meta)
        monitor.log(train=1.0, val=0.5)
    assert monitor.history.n_steps == 1 and list(monitor.history.val) == [0.5]


def test_step_epochs_must_be_whole_numbers_and_fit_the_steps():
    history = lw.History()
    with pytest.raises(TypeError, match="'epoch' must be whole numbers"):
        history.log_steps([1.0, 2.0], [0.5, 1.0])
    with pytest.raises(ValueError, match="'epoch' must be one number or one per step: 3 epochs for 2 steps"):
        history.log_steps([1.0, 2.0], [0, 0, 1])
    with pytest.raises(TypeError, match="'train' must be numbers"):
        history.log_steps(["a", "b"], 0)
    assert history.n_steps == 0  # a rejected call leaves the history as it was
    history.log_steps([1.0, 2.0], np.array([0.0, 1.0]))  # whole numbers as floats are fine
    assert list(history.step_epoch) == [0, 1]


def test_accuracy_refuses_outputs_without_a_score_per_class():
    torch = pytest.importorskip("torch")
    with pytest.raises(
        ValueError, match=r"one score per class, of shape \(batch, classes\): got outputs of shape \(4,\)"
    ):
        lw.accuracy(torch.zeros(4), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="one class index per example"):
        lw.accuracy(torch.zeros(4, 3), torch.zeros(4, 3))
    assert float(lw.accuracy(torch.eye(3), torch.arange(3))) == 1.0


def test_ctrl_c_during_wait_stops_the_background_run_and_wait_stays_truthful():
    monitor = lw.LiveLossMonitor(patience=None, display="none")

    def train():
        for _ in monitor.epochs(1000):
            time.sleep(0.01)
            monitor.log(train=1.0, val=1.0)
        return "ended"

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # whatever the suite inherited
    try:
        monitor.start(train)
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        assert monitor.wait(timeout=30) == "ended"  # the interrupt asked the run to stop; wait() saw it end
    finally:
        signal.signal(signal.SIGINT, previous)
    assert monitor.stop_code is lw.StopReason.INTERRUPTED and not monitor.running
    assert 5 < len(monitor.history) < 1000
    assert monitor.wait(timeout=1) == "ended"  # and a later wait() says the same


def _history_file(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


HEADER = '{"format": "losswidget-history", "version": 1}\n'
EPOCH = '{"kind": "epoch", "epoch": 0, "values": {"train": 1.0}}\n'

# The weak cases of both rounds (../shared/weak-cases.md): each call, the error, and the words that
# name the argument, the value or what is allowed.
WEAK_CASES = [
    ("smooth complex", lambda t: lw.smooth(np.array([1 + 1j, 2]), 2), TypeError, "'values' must be real numbers"),
    ("decimate text", lambda t: lw.decimate(np.arange(3), ["a", "b", "c"], 2), TypeError, "'y' .* got text"),
    ("ragged", lambda t: lw.smooth([[1, 2], [3]], 2), TypeError, "'values' .* got a ragged sequence"),
    ("huge epoch", lambda t: lw.History().log_epoch(2**70, {"train": 1.0}), ValueError, "'epoch' must be <= "),
    ("values list", lambda t: lw.History().log_epoch(0, [1.0]), TypeError, "'values' must be a dict .* got list"),
    (
        "version true",
        lambda t: lw.History.load(_history_file(t, "v.jsonl", '{"format": "losswidget-history", "version": true}\n')),
        HistoryFileError,
        "bad format version True",
    ),
    ("load a directory", lambda t: lw.History.load(t), IsADirectoryError, "'path' .* is a directory"),
    ("load a number", lambda t: lw.History.load(123), TypeError, r"'path' must be a file path .*: 123 \(int\)"),
    (
        "torn middle",
        lambda t: lw.History.load(_history_file(t, "torn.jsonl", HEADER + '{"kind": "ep\n' + EPOCH)),
        HistoryFileError,
        "line 2: not valid JSON .*: a torn or edited record; only a log's last line may be torn",
    ),
    (
        "blank first line",
        lambda t: lw.History.load(_history_file(t, "blank.jsonl", "\n" + HEADER + EPOCH)),
        HistoryFileError,
        "line 1: blank, not a losswidget history",
    ),
    (
        "duplicated CSV column",
        lambda t: lw.History.load(
            _history_file(t, "d.csv", "kind,epoch,step,train,val,acc,acc\nepoch,0,,1,,0.5,0.6\n")
        ),
        HistoryFileError,
        "the column 'acc' appears more than once",
    ),
    ("save into a directory", lambda t: lw.History().save(t), IsADirectoryError, "'path' .* is a directory"),
    (
        "model class",
        lambda t: lw.LiveLossMonitor(model=pytest.importorskip("torch").nn.Linear, display="none"),
        TypeError,
        r"'model' must be a model instance, not the class Linear: pass Linear\(...\)",
    ),
    (
        "log_file number",
        lambda t: lw.LiveLossMonitor(log_file=123, display="none"),
        TypeError,
        "'log_file' must be a file path",
    ),
    (
        "log_file directory",
        lambda t: lw.LiveLossMonitor(log_file=t, display="none"),
        IsADirectoryError,
        "is a directory",
    ),
    ("watch a None", lambda t: lw.watch([t / "a.jsonl", None], display="none"), TypeError, "item 1 is None"),
    ("watch a directory", lambda t: lw.watch(t, display="none"), IsADirectoryError, "is a directory"),
    ("long metric name", lambda t: lw.History().log_epoch(0, {"x" * 201: 1.0}), ValueError, "at most 200 characters"),
    ("newline in a name", lambda t: lw.History().log_epoch(0, {"a\nb": 1.0}), ValueError, "must be printable"),
]


@pytest.mark.parametrize(("case", "call", "error", "words"), WEAK_CASES, ids=[case[0] for case in WEAK_CASES])
def test_every_weak_case_names_the_argument_the_value_or_what_is_allowed(tmp_path, case, call, error, words):
    with pytest.raises(error, match=words):
        call(tmp_path)


def test_smooth_takes_a_tensor_that_requires_grad_and_values_near_the_float64_limit():
    torch = pytest.importorskip("torch")
    assert lw.smooth(torch.ones(4, requires_grad=True), 2).tolist() == [1.0] * 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        assert lw.smooth([1e308, 1e308, -1e308], 2).tolist() == [1e308, 1e308, 0.0]


def test_a_step_loss_on_the_meta_device_is_refused_by_name_and_the_rest_is_kept():
    torch = pytest.importorskip("torch")
    monitor = lw.LiveLossMonitor(display="none")
    with pytest.raises(ValueError, match=r"'train' given to log_step is a tensor on the 'meta' device.*1 such step"):
        for _ in monitor.epochs(2):
            monitor.log_step(1.0)
            monitor.log_step(torch.ones((), device="meta") * 2)  # no value: a gap, and said
    assert monitor.history.step_train[0] == 1.0 and np.isnan(monitor.history.step_train[1])
    assert monitor.history.train.tolist() == [1.0]  # the epoch's loss from its finite steps


def test_fit_and_evaluate_name_a_missing_loader_and_a_meta_model():
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(2, 1)
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(8, 2), torch.randn(8, 1)))
    optimizer = torch.optim.SGD(model.parameters(), 0.1)
    with pytest.raises(TypeError, match=r"evaluate\(\): 'loader' must be an iterable of batches .* got NoneType"):
        lw.evaluate(model, None, torch.nn.MSELoss())
    with pytest.raises(TypeError, match=r"fit\(\): 'train_loader' must be an iterable of batches"):
        lw.fit(model, None, data, torch.nn.MSELoss(), optimizer, 1)
    meta = torch.nn.Linear(2, 1, device="meta")
    with pytest.raises(ValueError, match=r"fit\(\): 'model' has parameters on the 'meta' device"):
        lw.fit(meta, data, data, torch.nn.MSELoss(), torch.optim.SGD(meta.parameters(), 0.1), 1)


def test_a_csv_round_trips_every_name_it_writes_and_neutralises_formula_cells(tmp_path):
    names = ['=HYPERLINK("http://x")', "+1", "-nll", "@sum", "'quoted", "'=both", "plain", "ünï cödé", "x" * 200]
    history = lw.History()
    history.log_epoch(0, {"train": 1.0, **{name: float(i) for i, name in enumerate(names)}})
    path = history.save(tmp_path / "run.csv")
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in header)  # no cell a spreadsheet would run
    assert lw.History.load(path) == history


def test_values_beyond_float32_are_said_on_the_chart_and_kept_exactly():
    monitor = lw.LiveLossMonitor(display="none")
    for _ in monitor.epochs(2):
        monitor.log(train=1e39, val=1.0)
    assert "beyond ±3.4e38 (up to 1e+39)" in monitor._build_frame().clip_note
    assert monitor.history.train.tolist() == [1e39, 1e39]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_log_file_symlinked_to_a_full_device_is_refused_by_name(tmp_path):
    link = tmp_path / "run.jsonl"
    link.symlink_to("/dev/full")
    with pytest.raises(ValueError, match=r"'log_file' .* is a device, not a regular file"):
        lw.LiveLossMonitor(log_file=link, display="none")


def test_a_meta_step_before_an_epochs_values_keeps_those_values_and_is_refused_as_the_epoch_ends():
    torch = pytest.importorskip("torch")
    monitor = lw.LiveLossMonitor(display="none")
    with pytest.raises(ValueError, match=r"'train' given to log_step is a tensor on the 'meta' device.*1 such step"):
        for _ in monitor.epochs(2):
            monitor.log_step(torch.ones((), device="meta") * 2)
            monitor.log(train=0.5, val=0.75)  # flushes the steps for the outputs: the refusal waits
    assert monitor.history.val.tolist() == [0.75] and np.isnan(monitor.history.step_train[0])
