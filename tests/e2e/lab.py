"""Real notebook servers (JupyterLab, Notebook 7, Voilà) and a real Chromium, for the browser tests."""

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
    """A notebook server on 127.0.0.1 with its own config, data and runtime folders.

    ``app`` is ``"lab"`` (JupyterLab), ``"notebook"`` (Notebook 7) or ``"voila"`` (Voilà with
    progressive rendering, serving ``notebook_dir``). ``comms_over_subshells`` is JupyterLab's
    setting: ``"disabled"`` makes it send widget messages on the main shell, as VS Code does.
    """

    def __init__(
        self,
        root: Path,
        notebook_dir: Path,
        app: str = "lab",
        comms_over_subshells: str | None = None,
        config: Path | None = None,
    ) -> None:
        self.root = root
        self.config = config  # a server config file, as scripts/start.sh passes one
        self.notebook_dir = notebook_dir
        self.app = app
        self.comms_over_subshells = comms_over_subshells
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _settings(self) -> None:
        settings = self.root / "settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        if self.comms_over_subshells is not None:
            (settings / "kernels-settings.jupyterlab-settings").write_text(
                json.dumps({"commsOverSubshells": self.comms_over_subshells})
            )

    def _command(self) -> list[str]:
        common = [f"--port={self.port}", f"--IdentityProvider.token={self.token}", "--no-browser"]
        if self.app == "voila":
            return [
                sys.executable, "-m", "voila", str(self.notebook_dir), "--Voila.ip=127.0.0.1",
                f"--port={self.port}", f"--token={self.token}", "--no-browser",
                "--progressive_rendering=True", "--ServerApp.allow_root=True",
            ]  # fmt: skip
        return [
            sys.executable, "-m", "jupyter", self.app, "--allow-root", "--ip=127.0.0.1", *common,
            f"--ServerApp.root_dir={self.notebook_dir}", "--ServerApp.open_browser=False",
            "--expose-app-in-browser", *(["--LabApp.news_url="] if self.app == "lab" else []),
            *([f"--config={self.config}"] if self.config is not None else []),
        ]  # fmt: skip

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
        self._settings()
        env.pop("JUPYTER_PLATFORM_DIRS", None)
        self.log = open(self.root / f"{self.app}.log", "w")
        self.process = subprocess.Popen(self._command(), env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.app} exited: {(self.root / f'{self.app}.log').read_text()[-2000:]}")
            try:
                self.api("/api/status" if self.app != "voila" else "/")
                return self
            except OSError:
                time.sleep(0.3)
            except ValueError:  # Voilà's page is HTML: it answered
                return self
        raise RuntimeError(f"{self.app} did not start within 60 s")

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
        if self.app == "voila":
            return f"{self.url}/voila/render/{name}?token={self.token}"
        if self.app == "notebook":
            return f"{self.url}/notebooks/{name}?token={self.token}"
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def wait_for_kernel(page, timeout_ms: int = 90_000) -> None:
    """Until the open notebook's kernel is connected and idle (JupyterLab and Notebook 7 alike)."""
    page.wait_for_function(
        "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
        " return k && k.status === 'idle' && k.connectionStatus === 'connected'; }",
        timeout=timeout_ms,
    )


def chromium_available() -> bool:
    return Path(CHROMIUM).exists()
