"""Fixtures for the real-browser tests: one JupyterLab and one Chromium per session."""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pytest

from .lab import CHROMIUM, CHROMIUM_ARGS, Lab, chromium_available, wait_for_kernel

ARTIFACTS = Path(__file__).parent / "artifacts"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.failed_call = report.failed
    return report


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    """``servers(app, comms_over_subshells)``: one server of each kind per session, started on first use."""
    if not chromium_available():
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM}: scripts/bootstrap.sh --browser installs it")
    started: dict[tuple, Lab] = {}

    def server(app: str = "lab", comms_over_subshells: str | None = None, config: Path | None = None) -> Lab:
        key = (app, comms_over_subshells, config)
        if key not in started:
            root = tmp_path_factory.mktemp(f"{app}-{comms_over_subshells or 'default'}{'-config' if config else ''}")
            (root / "notebooks").mkdir()
            started[key] = Lab(root / "home", root / "notebooks", app, comms_over_subshells, config).start()
        return started[key]

    yield server
    for running in started.values():
        running.stop()


@pytest.fixture(scope="session")
def lab(servers):
    return servers()


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Notebook:
    """A notebook opened in JupyterLab in a Chromium page, with helpers to run and read it."""

    def __init__(self, lab: Lab, page, name: str) -> None:
        self.lab, self.page, self.name = lab, page, name

    def open(self) -> Notebook:
        self.page.goto(self.lab.notebook_url(self.name))
        if self.lab.app == "voila":  # Voilà runs the notebook as the page loads
            return self
        # JupyterLab and Notebook 7 alike: the notebook's kernel is connected and idle.
        wait_for_kernel(self.page)
        return self

    def command(self, command_id: str) -> None:
        """Run a JupyterLab command, as its menu item would (the app is exposed for tests)."""
        self.page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands", timeout=60_000)
        # Not awaited: "run all" resolves only when every cell has finished.
        self.page.evaluate("id => { window.jupyterapp.commands.execute(id); }", command_id)

    def dismiss_dialogs(self) -> None:
        for _ in range(3):
            if not self.page.locator(".jp-Dialog").count():
                return
            self.page.keyboard.press("Escape")
            time.sleep(0.3)

    def run_all(self) -> None:
        # On a cold start JupyterLab can report "idle" before the kernel takes requests and
        # drop the first run: check that the first code cell started, and ask again if not.
        for _ in range(3):
            self.dismiss_dialogs()
            self.command("notebook:run-all-cells")
            try:
                self.page.wait_for_function(
                    "() => { const p = document.querySelector('.jp-CodeCell .jp-InputPrompt');"
                    " return p && /\\[(\\*|\\d+)\\]/.test(p.textContent); }",
                    timeout=15_000,
                )
                return
            except Exception:
                time.sleep(1)
        raise AssertionError("JupyterLab did not start running the notebook")

    def wait_for_widget(self) -> None:
        self.page.wait_for_selector(".losswidget .losswidget-status", timeout=60_000)

    def status(self) -> str:
        return self.page.inner_text(".losswidget-status")

    def details(self) -> str:
        """The numbers behind the status (the folded "details" panel; read whether open or not)."""
        return self.page.locator(".losswidget-details").first.text_content() or ""

    def wait_for_status(self, pattern: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.status()
            if re.search(pattern, text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"status never matched {pattern!r}; last: {self.status()!r}")

    def output_text(self) -> str:
        # text_content, not inner_text: JupyterLab skips rendering cells scrolled out of view
        # (content-visibility), and inner_text then reads nothing there (a clean-clone CI run read
        # cell 3's "RESTORED" but not cell 2's "ENDED ... INTERRUPTED" above it, twice).
        return "\n".join(self.page.locator(".jp-OutputArea-output").all_text_contents())

    def wait_for_output(self, marker: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.output_text()
            if marker in text:
                return text
            time.sleep(0.05)
        raise AssertionError(f"no output {marker!r} within {timeout} s; outputs: {self.output_text()[-2000:]!r}")

    def line_points(self) -> int:
        """Points in the longest drawn line of the chart (legend swatches have few)."""
        counts = self.page.eval_on_selector_all(
            ".losswidget svg path.line",
            "paths => paths.map(p => ((p.getAttribute('d') || '').match(/[ML]/g) || []).length)",
        )
        return max(counts, default=0)

    def wait_for_points(self, more_than: int, timeout: float = 30) -> int:
        """The longest line's point count once it exceeds ``more_than`` (a busy browser draws late)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            points = self.line_points()
            if points > more_than:
                return points
            time.sleep(0.1)
        raise AssertionError(f"no line grew past {more_than} points within {timeout} s; status: {self.status()!r}")

    def class_rows(self) -> list[str]:
        """The class view's table rows as text, without its header."""
        return self.page.locator(".losswidget-classroom table tr").all_text_contents()[1:]

    def screenshot(self, label: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{Path(self.name).stem}-{self.lab.app}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def wait_until(predicate, what: str, timeout: float = 120):
    """``predicate()``'s first truthy value, polled every 0.25 s; an AssertionError naming ``what`` after
    ``timeout`` seconds (a bound on a hang, not a speed target)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"never: {what}")


@pytest.fixture
def notebook(servers, browser, request):
    """``notebook(cells, server=lab)`` writes a notebook for this test and opens it in a fresh page."""
    pages, used = [], set()

    def open_notebook(cells: list[str], server: Lab | None = None) -> Notebook:
        server = server or servers()
        used.add(server)
        name = re.sub(r"[^a-z0-9_]+", "_", request.node.name.lower()) + ".ipynb"
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code) for code in cells])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, server.notebook_dir / name)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        pages.append(page)
        return Notebook(server, page, name).open()

    yield open_notebook
    for index, page in enumerate(pages):
        if getattr(request.node, "failed_call", False):
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}-{index}.png"), full_page=True)
        page.close()
    for server in used:
        if server.app != "voila":  # Voilà ends its kernel when the page closes
            for session in server.api("/api/sessions"):
                server.delete(f"/api/sessions/{session['id']}")
