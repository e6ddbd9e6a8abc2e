"""`scripts/start.sh` as a student runs it: the URL it prints opens the classroom notebook itself (not
JupyterLab's Launcher), and no pop-up covers the chart."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import ARTIFACTS
from .lab import free_port

ROOT = Path(__file__).resolve().parents[2]
LESSON = "notebooks/02_seeing_overfitting.ipynb"


@pytest.fixture
def started(tmp_path):
    """The URL start.sh prints (the server runs until the test ends)."""
    port = free_port()
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "JUPYTERLAB_WORKSPACES_DIR"):
        env[name] = str(tmp_path / name.lower())
    env.pop("JUPYTER_PLATFORM_DIRS", None)
    env["JUPYTERLAB_SETTINGS_DIR"] = str(tmp_path / "user-settings")  # a student's own: empty
    log = open(tmp_path / "start.log", "w+")
    command = ["scripts/start.sh", f"--port={port}", "--no-browser"]  # the token as a student gets it: printed
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline, url = time.monotonic() + 240, None  # a first start installs the lessons' packages
        while time.monotonic() < deadline and url is None:
            if process.poll() is not None:
                pytest.fail(f"start.sh exited: {(tmp_path / 'start.log').read_text()[-3000:]}")
            time.sleep(0.5)
            found = re.search(rf"http://127\.0\.0\.1:{port}/\S+token=\w+", (tmp_path / "start.log").read_text())
            url = found.group(0) if found else None
        assert url is not None, (tmp_path / "start.log").read_text()[-3000:]
        yield url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_the_printed_url_lands_on_the_lesson_with_no_pop_up(started, browser):
    url = started
    assert f"/lab/tree/{LESSON}?token=" in url
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(url)
        tab = page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel")
        page.wait_for_function(
            "name => [...document.querySelectorAll('.lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel')]"
            ".some(label => label.textContent.trim() === name)",
            arg=Path(LESSON).name,
            timeout=90_000,
        )
        assert Path(LESSON).name in tab.all_text_contents()
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=30_000)
        time.sleep(4)  # the news question came a second or two after the page had loaded
        assert page.locator(".Toastify__toast").count() == 0, page.locator(".Toastify__toast").all_text_contents()
        assert not page.locator(".jp-Launcher").is_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "start_lands_on_the_lesson.png"))
    finally:
        page.close()
