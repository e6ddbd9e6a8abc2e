"""trackio's self-hosted server as a subprocess on 127.0.0.1: started on a free port, waited for
(bounded), killed and started again on the same port and data folder (a restart mid-class)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

READY_SECONDS = 90.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TrackioServer:
    def __init__(self, folder: Path, token: str = "teacher-secret", project: str = "lab3") -> None:
        self.folder, self.token, self.project = folder, token, project
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def link(self) -> str:
        """What a teacher hands out: the class and the write token."""
        return f"{self.base}?project={self.project}&write_token={self.token}"

    @property
    def view_link(self) -> str:
        """What the teacher's view reads: no token."""
        return f"{self.base}?project={self.project}"

    def start(self) -> None:
        env = dict(os.environ)
        env.update(
            TRACKIO_DIR=str(self.folder),
            TRACKIO_WRITE_TOKEN=self.token,
            GRADIO_SERVER_PORT=str(self.port),
            GRADIO_NUM_PORTS="1",
        )
        command = [sys.executable, "-c", "from trackio.cli import main; main()", "show", "--host", "127.0.0.1"]
        log = open(self.folder.parent / f"server-{self.port}.log", "ab")
        self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the trackio server ended at start ({self.process.returncode})")
            try:
                with urllib.request.urlopen(f"{self.base}version", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the trackio server did not answer within {READY_SECONDS:g} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self.process = None
