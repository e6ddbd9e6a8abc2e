"""Clicks reaching a real kernel whose main thread runs a blocking training loop.

A real ipykernel is started with jupyter_client and driven the way a frontend
drives it: comm messages for the Stop button, with a ``subshell_id`` header when
the frontend uses kernel subshells (JupyterLab >= 4.4), without one otherwise,
and the kernel interrupt. ipykernel 6 (the "pump" regime) runs when
LOSSWIDGET_IPYKERNEL6_PYTHON names a Python that has it (``.ci/run`` sets one up).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

jupyter_client = pytest.importorskip("jupyter_client")
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

LOOP = """
import time, losswidget as lw
monitor = lw.LiveLossMonitor(patience=None)
display(monitor)
started = time.monotonic()
for epoch in monitor.epochs(2000):
    for step in range(5):
        time.sleep(0.01)
        monitor.log_step(train=1.0 / (epoch + 1))
    monitor.log(val=1.0 / (epoch + 1))
print("ENDED", epoch, monitor.stop_code, monitor.regime, round(time.monotonic() - started, 2))
"""


class Kernel:
    def __init__(self, python: str, tmp_path: Path) -> None:
        spec_dir = tmp_path / "kernels" / "under-test"
        spec_dir.mkdir(parents=True)
        env = {"PYTHONPATH": str(REPO)}
        argv = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        (spec_dir / "kernel.json").write_text(json.dumps({"argv": argv, "language": "python", "env": env}))
        self.manager = KernelManager(
            kernel_name="under-test", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
        )
        self.manager.start_kernel()
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.outputs: list[str] = []

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)

    def create_subshell(self) -> str:
        request = self.client.session.msg("create_subshell_request", {})
        self.client.control_channel.send(request)
        reply = self.client.control_channel.get_msg(timeout=10)
        assert reply["content"]["status"] == "ok", reply["content"]
        return reply["content"]["subshell_id"]

    def find_stop_button(self, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.client.get_iopub_msg(timeout=timeout)
            self._collect(message)
            if message["msg_type"] == "comm_open":
                state = message["content"]["data"].get("state", {})
                if state.get("_model_name") == "ButtonModel" and state.get("description") == "Stop":
                    return message["content"]["comm_id"]
        raise AssertionError("the monitor's Stop button never appeared")

    def click(self, comm_id: str, subshell_id: str | None) -> None:
        content = {"comm_id": comm_id, "data": {"method": "custom", "content": {"event": "click"}}}
        message = self.client.session.msg("comm_msg", content)
        if subshell_id is not None:
            message["header"]["subshell_id"] = subshell_id
        self.client.shell_channel.send(message)

    def _collect(self, message: dict) -> None:
        if message["msg_type"] == "stream":
            self.outputs.append(message["content"]["text"])
        elif message["msg_type"] == "error":
            self.outputs.append("ERROR " + message["content"]["ename"] + ": " + message["content"]["evalue"])

    def wait_for_output(self, marker: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = "".join(self.outputs)
            if marker in text:
                return text
            try:
                self._collect(self.client.get_iopub_msg(timeout=0.2))
            except Exception:  # queue.Empty
                pass
        raise AssertionError(f"no {marker!r} within {timeout} s; output so far: {''.join(self.outputs)!r}")


@pytest.fixture
def kernel(tmp_path):
    started = Kernel(sys.executable, tmp_path)
    yield started
    started.close()


def test_stop_button_reaches_a_busy_kernel_through_its_subshell(kernel):
    subshell = kernel.create_subshell()  # what JupyterLab >= 4.4 does for each comm target
    kernel.client.execute(LOOP)
    button = kernel.find_stop_button()
    time.sleep(1.0)
    kernel.click(button, subshell)
    text = kernel.wait_for_output("ENDED", timeout=20)
    assert "StopReason.USER subshell" in text, text
    ended = int(text.split("ENDED")[1].split()[0])
    assert ended < 200, f"the click, sent about 20 epochs in, ended the loop only at epoch {ended} of 2000"


def test_without_subshells_the_interrupt_stops_gracefully(kernel):
    kernel.client.execute(LOOP)
    kernel.find_stop_button()
    time.sleep(1.0)
    kernel.manager.interrupt_kernel()  # the ■ button
    text = kernel.wait_for_output("ENDED", timeout=20)
    assert "StopReason.INTERRUPTED interrupt" in text, text
    assert "KeyboardInterrupt" not in text


IPYKERNEL6 = os.environ.get("LOSSWIDGET_IPYKERNEL6_PYTHON")


@pytest.mark.skipif(not IPYKERNEL6, reason="set LOSSWIDGET_IPYKERNEL6_PYTHON to a Python with ipykernel 6")
def test_ipykernel6_pumps_our_clicks_between_steps(tmp_path):
    kernel = Kernel(IPYKERNEL6, tmp_path)
    try:
        kernel.client.execute("import ipykernel; print('IPYKERNEL', ipykernel.__version__)")
        assert "IPYKERNEL 6." in kernel.wait_for_output("IPYKERNEL", timeout=30)
        kernel.client.execute(LOOP)
        kernel.client.execute("print('NEXT CELL RAN')")  # must wait, in order, for the loop
        button = kernel.find_stop_button()
        time.sleep(1.0)
        kernel.click(button, None)
        text = kernel.wait_for_output("ENDED", timeout=20)
        assert "StopReason.USER pump" in text, text
        text = kernel.wait_for_output("NEXT CELL RAN", timeout=20)
        assert text.index("ENDED") < text.index("NEXT CELL RAN")
    finally:
        kernel.close()
