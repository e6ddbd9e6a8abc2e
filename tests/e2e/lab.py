"""A real JupyterLab server and a real Chromium, for the browser tests (DESIGN.md §6)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = os.environ.get("LOSSWIDGET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    """``jupyter lab`` on 127.0.0.1 with its own config, data and runtime folders."""

    def __init__(self, root: Path, notebook_dir: Path) -> None:
        self.root = root
        self.notebook_dir = notebook_dir
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Lab:
        env = dict(os.environ)
        for name, folder in (
            ("JUPYTER_CONFIG_DIR", "config"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("IPYTHONDIR", "ipython"),
            ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
            ("JUPYTERLAB_SETTINGS_DIR", "settings"),
        ):
            path = self.root / folder
            path.mkdir(parents=True, exist_ok=True)
            env[name] = str(path)
        settings = self.root / "settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        env.pop("JUPYTER_PLATFORM_DIRS", None)
        command = [
            sys.executable, "-m", "jupyter", "lab", "--allow-root", "--no-browser",
            "--ip=127.0.0.1", f"--port={self.port}", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.notebook_dir}", "--ServerApp.open_browser=False",
            "--LabApp.news_url=", "--LabApp.expose_app_in_browser=True",
        ]  # fmt: skip
        self.log = open(self.root / "lab.log", "w")
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited: {(self.root / 'lab.log').read_text()[-2000:]}")
            try:
                self.api("/api/status")
                return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("jupyter lab did not start within 60 s")

    def api(self, path: str):
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def delete(self, path: str) -> None:
        request = urllib.request.Request(
            self.url + path, method="DELETE", headers={"Authorization": f"token {self.token}"}
        )
        urllib.request.urlopen(request, timeout=10).close()

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def chromium_available() -> bool:
    return Path(CHROMIUM).exists()
