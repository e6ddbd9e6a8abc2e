"""Clicks reaching a real kernel whose main thread runs a blocking training loop.

A real ipykernel is started with jupyter_client and driven the way a frontend drives
it: comm messages for the Stop button and the sliders, sent on the main shell with no
``subshell_id`` (VS Code, Voilà, Notebook 7, JupyterLab with ``commsOverSubshells``
off) or on a subshell of the frontend's own (JupyterLab >= 4.4), and the kernel
interrupt. Other kernel stacks run when scripts/test.sh has built them:
LOSSWIDGET_IPYKERNEL70_PYTHON (ipykernel 7.0.1, Binder's, which has no comm routing
hook) and LOSSWIDGET_COLAB_PYTHON (Colab's ipykernel 6.17.1 / IPython 7.34 /
ipywidgets 7.7.1 / bqplot 0.12: the "pump" regime).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import pytest

jupyter_client = pytest.importorskip("jupyter_client")
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
IPYKERNEL70 = os.environ.get("LOSSWIDGET_IPYKERNEL70_PYTHON")
COLAB = os.environ.get("LOSSWIDGET_COLAB_PYTHON")


def loop(patience: str = "None", epochs: int = 2000, name: str = "monitor") -> str:
    """A cell: a monitor shown, then a blocking loop of ~0.05 s epochs; validation rises from epoch 0."""
    return f"""
import time, losswidget as lw
{name} = lw.LiveLossMonitor(patience={patience})
display({name})
started = time.monotonic()
for epoch in {name}.epochs({epochs}):
    for step in range(5):
        time.sleep(0.01)
        {name}.log_step(train=1.0 / (epoch + 1))
    {name}.log(val=1.0 + 0.001 * epoch)
print("ENDED", epoch, {name}.stop_code, {name}.regime, round(time.monotonic() - started, 2))
"""


STEERED = """
import torch
net = torch.nn.Linear(2, 1)
optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
third = lw.LiveLossMonitor(patience=None, optimizer=optimizer)
display(third)
for epoch in third.epochs(2000):
    for step in range(5):
        time.sleep(0.01)
        third.log_step(train=1.0)
    third.log(val=1.0)
print("ENDED", epoch, third.stop_code, third.regime, optimizer.param_groups[0]["lr"])
"""


class Kernel:
    def __init__(self, python: str, tmp_path: Path) -> None:
        spec_dir = tmp_path / "kernels" / "under-test"
        spec_dir.mkdir(parents=True)
        env = {"PYTHONPATH": str(REPO)}
        argv = [python, str(REPO / "tests" / "kernel_launch.py"), "-f", "{connection_file}"]  # with probes
        (spec_dir / "kernel.json").write_text(json.dumps({"argv": argv, "language": "python", "env": env}))
        self.manager = KernelManager(
            kernel_name="under-test", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
        )
        self.stderr_path = tmp_path / "kernel-stderr.txt"
        with self.stderr_path.open("w") as stderr:  # the child keeps its own copy of the descriptor
            self.manager.start_kernel(stderr=stderr)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.outputs: list[str] = []  # what the cells we ran printed or raised
        self.cells: set[str] = set()
        self.replied: set[str] = set()  # cells whose execute_reply arrived
        self.widgets: dict[tuple[str, str], str] = {}  # (model name, description) -> newest comm id
        self.recent: deque[str] = deque(maxlen=40)  # the last iopub messages, for a failure's message

    def diagnosis(self) -> str:
        """What a failed wait should say: what the kernel last published, whether it is alive, the
        state of its shell-message path and every thread's stack (tests/kernel_launch.py's probes),
        and whether one more shell message gets a stuck cell going (a lost wake-up) or not."""
        lines = [f"last iopub messages: {list(self.recent)}"]
        if self.manager.is_alive():
            pid = self.manager.provisioner.process.pid
            os.kill(pid, signal.SIGUSR2)
            time.sleep(1.0)
            os.kill(pid, signal.SIGUSR1)
            time.sleep(1.0)
            lines.append("kernel alive; its stderr (probes at the end):")
            lines.append(self.stderr_path.read_text()[-8000:])
            self.recent.clear()
            self.client.kernel_info()  # one more message on the main shell
            self.read_until(lambda: False, 5)
            lines.append(f"iopub in the 5 s after one kernel_info_request: {list(self.recent)}")
        else:
            lines.append(f"kernel DEAD (exit code {self.manager.provisioner.process.poll()}); its stderr:")
            lines.append(self.stderr_path.read_text()[-8000:])
        return "\n".join(lines)

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)

    def execute(self, code: str, queued: bool = False) -> None:
        """Run a cell. Unless ``queued`` (sent on purpose while another cell runs), first wait for
        every earlier cell's execute_reply: ipykernel 7.0-7.3 stop reading their shell socket for
        good when a request arrives while a reply goes out (their shell-channel thread sends replies
        on the raw socket under its ZMQStream; 7.4 sends through the stream). A frontend sending
        the next cell as the last one ends would wedge the kernel, whatever the cell runs:
        ``benchmarks/probe_shell_race.py`` shows it with plain ``print`` cells."""
        if not queued:
            self.wait_for_replies()
        self.cells.add(self.client.execute(code))

    def wait_for_replies(self, timeout: float = 60) -> None:
        """Until every cell sent so far has its execute_reply on the shell channel."""
        deadline = time.monotonic() + timeout
        while self.cells - self.replied:
            try:
                reply = self.client.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no execute_reply within {timeout} s\n{self.diagnosis()}") from None
            self.replied.add(reply["parent_header"].get("msg_id"))

    def control(self, msg_type: str, content: dict | None = None) -> dict:
        request = self.client.session.msg(msg_type, content or {})
        self.client.control_channel.send(request)
        reply = self.client.control_channel.get_msg(timeout=10)
        assert reply["content"]["status"] == "ok", reply["content"]
        return reply["content"]

    def subshells(self) -> list[str]:
        return self.control("list_subshell_request")["subshell_id"]

    def find_widget(self, model: str, description: str, timeout: float = 30, after: str | None = None) -> str:
        """The comm id of a widget opened by the kernel (a newer one than ``after``)."""
        if self.read_until(lambda: self.widgets.get((model, description)) not in (None, after), timeout):
            return self.widgets[(model, description)]
        raise AssertionError(
            f"no {model} {description!r} appeared; output so far: {''.join(self.outputs)!r}\n{self.diagnosis()}"
        )

    def send(self, comm_id: str, data: dict, subshell_id: str | None = None) -> None:
        message = self.client.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        if subshell_id is not None:
            message["header"]["subshell_id"] = subshell_id
        self.client.shell_channel.send(message)

    def click(self, comm_id: str, subshell_id: str | None = None) -> None:
        self.send(comm_id, {"method": "custom", "content": {"event": "click"}}, subshell_id)

    def slide(self, comm_id: str, value: object, subshell_id: str | None = None) -> None:
        self.send(comm_id, {"method": "update", "state": {"value": value}, "buffer_paths": []}, subshell_id)

    def read_until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Read iopub messages until ``done()`` or ``timeout`` seconds; whether ``done()`` came true."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() >= deadline:
                return False
            self._read(0.2)
        return True

    def _read(self, timeout: float) -> None:
        try:
            message = self.client.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            return
        kind, content = message["msg_type"], message["content"]
        ours = message["parent_header"].get("msg_id") in self.cells
        detail = content.get("execution_state") or content.get("data", {}).get("method", "")
        self.recent.append(f"{kind}:{detail}:{message['parent_header'].get('msg_type', '-')}")
        if kind == "stream" and ours:
            self.outputs.append(content["text"])
        elif kind == "error" and ours:
            self.outputs.append(f"ERROR {content['ename']}: {content['evalue']}\n")
        elif kind == "comm_open":
            state = content["data"].get("state", {})
            self.widgets[(state.get("_model_name"), state.get("description"))] = content["comm_id"]

    def wait_for_output(self, marker: str, timeout: float) -> str:
        if self.read_until(lambda: marker in "".join(self.outputs), timeout):
            return "".join(self.outputs)
        raise AssertionError(
            f"no {marker!r} within {timeout} s; output so far: {''.join(self.outputs)!r}\n{self.diagnosis()}"
        )

    def ended(self, timeout: float = 20, nth: int = 1) -> tuple[int, str, str]:
        """(last epoch, stop code, regime) from the nth loop's ENDED line."""
        self.read_until(lambda: "".join(self.outputs).count("ENDED") >= nth, timeout)
        text = "".join(self.outputs)
        if text.count("ENDED") < nth:
            raise AssertionError(f"loop {nth} did not end within {timeout} s; output: {text!r}\n{self.diagnosis()}")
        assert "ERROR" not in text and "Traceback" not in text, text
        fields = text.split("ENDED")[nth].split()
        return int(fields[0]), fields[1], fields[2]


@pytest.fixture
def kernel(tmp_path):
    started = Kernel(sys.executable, tmp_path)
    yield started
    started.close()


STACKS = [
    pytest.param(sys.executable, "subshell", id="ipykernel7.4"),
    pytest.param(
        IPYKERNEL70,
        "subshell",
        id="ipykernel7.0.1",
        marks=pytest.mark.skipif(not IPYKERNEL70, reason="LOSSWIDGET_IPYKERNEL70_PYTHON is not set (scripts/test.sh)"),
    ),
    pytest.param(
        COLAB,
        "pump",
        id="colab",
        marks=pytest.mark.skipif(not COLAB, reason="LOSSWIDGET_COLAB_PYTHON is not set (scripts/test.sh)"),
    ),
]


@pytest.mark.parametrize(("python", "regime"), STACKS)
def test_main_shell_stop_and_patience_reach_a_busy_kernel(python, regime, tmp_path):
    """What VS Code, Voilà and Notebook 7 send: every message on the main shell."""
    kernel = Kernel(python, tmp_path)
    try:
        kernel.execute(loop())
        kernel.execute("print('NEXT CELL RAN')", queued=True)  # behind the loop: must wait for it
        stop = kernel.find_widget("ButtonModel", "Stop")
        time.sleep(1.0)  # about 20 epochs
        kernel.click(stop)
        epoch, code, seen_regime = kernel.ended()
        assert (code, seen_regime) == ("StopReason.USER", regime)
        assert epoch < 200, f"the click, sent about 20 epochs in, ended the loop only at epoch {epoch} of 2000"
        text = kernel.wait_for_output("NEXT CELL RAN", timeout=20)
        assert text.index("ENDED") < text.index("NEXT CELL RAN")

        # Validation rises from epoch 0: patience 300 would stop at epoch 300; the slider moved to 3
        # mid-loop stops the next loop within a few epochs of the move.
        kernel.execute(loop(patience="300", name="second"))
        patience = kernel.find_widget(
            "IntSliderModel", "patience", after=kernel.widgets.get(("IntSliderModel", "patience"))
        )
        time.sleep(1.0)
        kernel.slide(patience, 3)
        epoch, code, _ = kernel.ended(nth=2)
        assert code == "StopReason.PATIENCE"
        assert epoch < 150, f"patience moved to 3 about 20 epochs in, yet the loop stopped at epoch {epoch}"

        # Steering on the same path: "lr ×½" then Stop, clicked mid-loop, reach the optimizer and the loop.
        earlier = {name: kernel.widgets.get(("ButtonModel", name)) for name in ("lr ×½", "Stop")}
        kernel.execute(STEERED)
        half = kernel.find_widget("ButtonModel", "lr ×½", after=earlier["lr ×½"])
        third_stop = kernel.find_widget("ButtonModel", "Stop", after=earlier["Stop"])
        time.sleep(1.0)
        kernel.click(half)
        kernel.read_until(lambda: False, 1.0)  # the click's step comes and goes
        kernel.click(third_stop)
        epoch, code, _ = kernel.ended(nth=3)
        assert code == "StopReason.USER" and "".join(kernel.outputs).split("ENDED")[3].split()[3] == "0.05"

        # ipykernel 7.0-7.3 can wedge (probe_shell_race.py): the user is told once per kernel, not per monitor.
        said = "".join(kernel.outputs).count("can stop answering for good")
        assert said == (1 if python == IPYKERNEL70 else 0), "".join(kernel.outputs)
    finally:
        kernel.close()


def test_a_frontend_subshell_click_still_works(kernel):
    """What JupyterLab >= 4.4 sends: comm messages on a subshell of its own."""
    theirs = kernel.control("create_subshell_request")["subshell_id"]
    kernel.execute(loop())
    stop = kernel.find_widget("ButtonModel", "Stop")
    time.sleep(1.0)
    kernel.click(stop, theirs)
    epoch, code, regime = kernel.ended()
    assert (code, regime) == ("StopReason.USER", "subshell") and epoch < 200


def test_one_subshell_per_kernel_reused_by_every_monitor(kernel):
    kernel.execute(loop(epochs=3))
    kernel.ended()
    ours = kernel.subshells()
    assert len(ours) == 1
    kernel.execute(loop(name="again"))
    stop = kernel.find_widget("ButtonModel", "Stop", after=kernel.widgets[("ButtonModel", "Stop")])
    time.sleep(0.5)
    kernel.click(stop)
    assert kernel.ended(nth=2)[1] == "StopReason.USER"
    assert kernel.subshells() == ours


def test_malformed_and_out_of_range_messages_never_reach_the_loop(kernel):
    kernel.execute(loop(patience="300"))
    stop = kernel.find_widget("ButtonModel", "Stop")
    patience = kernel.find_widget("IntSliderModel", "patience")
    time.sleep(0.5)
    kernel.send(stop, {"method": "custom"})  # no content
    kernel.send(stop, {"bogus": True})
    kernel.send(patience, {"method": "update", "state": {"value": "three"}, "buffer_paths": []})
    kernel.send(patience, {"method": "update", "state": {"value": None}, "buffer_paths": []})
    kernel.slide(patience, 10**9)  # clamped to the slider's maximum, 300: no change
    kernel.send("not-a-comm-of-anyone", {"method": "custom", "content": {"event": "click"}})
    # The loop runs on after every bad message: it has not ended 2 s later (counted in its own
    # output, not in epochs: a busy machine runs fewer epochs a second; a CI run saw 15 in 1 s).
    kernel.read_until(lambda: "ENDED" in "".join(kernel.outputs), 2.0)
    assert "ENDED" not in "".join(kernel.outputs), "a malformed message ended the loop"
    kernel.click(stop)
    epoch, code, regime = kernel.ended()
    assert (code, regime) == ("StopReason.USER", "subshell"), "the loop should run on until the real click"
    assert epoch > 0


@pytest.mark.parametrize("python", [stack.values[0] for stack in STACKS[:2]], ids=["ipykernel7.4", "ipykernel7.0.1"])
def test_a_deleted_subshell_falls_back_to_the_interrupt_and_the_next_monitor_gets_a_new_one(python, tmp_path):
    if python is None:
        pytest.skip("LOSSWIDGET_IPYKERNEL70_PYTHON is not set (scripts/test.sh)")
    kernel = Kernel(python, tmp_path)
    try:
        deleted_subshell_then_a_new_monitor(kernel)
    finally:
        kernel.close()


def deleted_subshell_then_a_new_monitor(kernel: Kernel) -> None:
    kernel.execute(loop())
    stop = kernel.find_widget("ButtonModel", "Stop")
    deadline = time.monotonic() + 10
    while not kernel.subshells() and time.monotonic() < deadline:  # created just after the widgets
        time.sleep(0.1)
    (ours,) = kernel.subshells()
    kernel.control("delete_subshell_request", {"subshell_id": ours})  # a client closing it under us
    time.sleep(0.5)
    kernel.click(stop)  # now queued on the busy main shell, handled after the cell
    time.sleep(1.0)
    kernel.manager.interrupt_kernel()  # the ■ button still stops gracefully
    _, code, regime = kernel.ended()
    assert (code, regime) == ("StopReason.INTERRUPTED", "interrupt")
    assert "KeyboardInterrupt" not in "".join(kernel.outputs)

    kernel.execute(loop(name="again"))
    stop = kernel.find_widget("ButtonModel", "Stop", after=stop)
    time.sleep(0.5)
    kernel.click(stop)
    assert kernel.ended(nth=2)[1:] == ("StopReason.USER", "subshell")
    assert len(kernel.subshells()) == 1 and kernel.subshells() != [ours]


def test_the_interrupt_still_stops_gracefully(kernel):
    kernel.execute(loop())
    kernel.find_widget("ButtonModel", "Stop")
    time.sleep(1.0)
    kernel.manager.interrupt_kernel()  # the ■ button
    epoch, code, _ = kernel.ended()
    assert code == "StopReason.INTERRUPTED" and epoch < 200
    assert "KeyboardInterrupt" not in "".join(kernel.outputs)


def test_a_kernel_without_subshells_says_so_and_falls_back():
    """No kernel subshells and no pump (an unknown kernel): the interrupt regime, and the status says why."""
    from types import SimpleNamespace

    import ipywidgets

    from losswidget.kernel import ControlChannel

    channel = ControlChannel(kernel=SimpleNamespace())
    channel.attach([ipywidgets.Button(description="Stop")])
    assert channel.regime() == "interrupt"
    text = channel.describe("interrupt")
    assert "interrupt the kernel" in text and "this kernel has no subshells (ipykernel < 7)" in text


def test_the_static_image_is_made_when_the_cell_ends_not_on_the_training_path(kernel):
    """The loop's end draws the final frame; the SVG and its display update wait for the cell's end
    (after the cell's next lines ran), still inside the cell, so the saved notebook has them."""
    cell = kernel.client.execute(
        "import losswidget as lw\n"
        "monitor = lw.LiveLossMonitor(patience=None)\n"
        "display(monitor)\n"
        "for epoch in monitor.epochs(4):\n"
        "    monitor.log(train=1.0 / (epoch + 1), val=1.5 / (epoch + 1))\n"
        "print('AFTER THE LOOP')\n"
    )
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        message = kernel.client.get_iopub_msg(timeout=deadline - time.monotonic())
        if message["parent_header"].get("msg_id") != cell:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            seen.append("print")
        elif kind == "update_display_data" and "image/svg+xml" in content["data"]:
            seen.append("image")
            svg = content["data"]["image/svg+xml"]
        elif kind == "error":
            raise AssertionError(content["evalue"])
        elif kind == "status" and content["execution_state"] == "idle":
            break
    assert seen == ["print", "image"], seen
    assert "Finished 4 epochs" in svg  # the final state


def test_the_kernel_status_stays_busy_while_a_monitored_cell_runs(kernel):
    """ipykernel wraps each widget message handled on a subshell in a busy/idle of its own, and
    JupyterLab's status bar follows every status: it read "Idle" mid-cell. While the monitor's loop
    runs, each such idle is followed by a busy whose parent is the running cell; once the cell has
    ended, its own idle is the last status."""
    kernel.recent = deque(maxlen=100_000)
    theirs = kernel.control("create_subshell_request")["subshell_id"]  # as JupyterLab sends them
    kernel.execute(loop())
    slider = kernel.find_widget("IntSliderModel", "smoothing")
    stop = kernel.find_widget("ButtonModel", "Stop")
    time.sleep(0.5)
    for value in (2, 3, 4, 3, 2):
        kernel.slide(slider, value, theirs)
        time.sleep(0.2)
    kernel.click(stop, theirs)
    kernel.ended()
    kernel.wait_for_replies()
    kernel.read_until(lambda: False, 1.0)  # the last statuses
    statuses = [entry for entry in kernel.recent if entry.startswith("status:")]
    widget_idles = [row for row, entry in enumerate(statuses) if entry == "status:idle:comm_msg"]
    assert len(widget_idles) >= 6, statuses  # five slider moves and the click, at least
    cell_end = max(row for row, entry in enumerate(statuses) if entry == "status:idle:execute_request")
    answered = [row for row in widget_idles if row < cell_end]
    assert answered and all(statuses[row + 1] == "status:busy:execute_request" for row in answered), statuses
    after_the_cell = statuses[cell_end + 1 :]  # nothing after the cell's own idle says busy
    assert "status:busy:execute_request" not in after_the_cell, after_the_cell
