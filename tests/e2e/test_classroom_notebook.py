"""The classroom notebook, opened in JupyterLab in Chromium and run as a teacher would."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from losswidget.views.style import COLORS

from .conftest import Notebook

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def test_overfitting_notebook_shows_validation_turning_up_and_the_best_epoch(lab, browser):
    shutil.copy(NOTEBOOKS / "02_seeing_overfitting.ipynb", lab.notebook_dir)
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    try:
        nb = Notebook(lab, page, "02_seeing_overfitting.ipynb").open()
        nb.run_all()
        text = nb.wait_for_output("training loss fell from", timeout=120)
        assert "its kind: 'overfitting', from epoch" in text
        first_chart = page.locator(".losswidget").first
        # text_content: the chart may be scrolled out of view, where JupyterLab skips rendering it
        # (content-visibility) and inner_text reads nothing.
        status = first_chart.locator(".losswidget-status").text_content()
        assert re.search(r"Best validation loss [\d.]+ at epoch \d+", status)
        # One validation number per epoch: its sampling error is unknown, so the chart says the model
        # "may be starting to memorise", and how to know for sure.
        assert "validation loss is above its best (epoch" in status and "memoris" in status
        # The best-epoch marker: one diamond drawn in the chart, in the marker's colour.
        best = COLORS["best"]
        rgb = "rgb({}, {}, {})".format(*(int(best[i : i + 2], 16) for i in (1, 3, 5)))
        diamonds = first_chart.locator("svg path.dot").evaluate_all(
            "(dots, [rgb, hex]) => dots.filter(d => (d.getAttribute('style') || '').includes(rgb)"
            " || d.getAttribute('fill') === hex).length",
            [rgb, best],
        )
        assert diamonds >= 1
        first_chart.scroll_into_view_if_needed()
        nb.screenshot("classroom")
    finally:
        page.close()
        for session in lab.api("/api/sessions"):
            lab.delete(f"/api/sessions/{session['id']}")
