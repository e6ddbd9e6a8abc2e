"""The "Back to best" button, without a browser: a click on another thread (as a kernel subshell
delivers it) only requests; the training thread branches at its next epoch boundary, in a real torch
loop; the button is disabled, with the reason as its tooltip, where a branch cannot work. Every wait
is bounded; no assertion is timed."""

import threading

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("bqplot")

import losswidget as lw  # noqa: E402

WAIT = 60  # seconds: a bound on a hang, never a measurement


def _monitor(**options):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    options = {"model": model, "optimizer": optimizer, **options}
    monitor = lw.LiveLossMonitor(patience=None, display="widget", frame_rate=1000, **options)
    monitor._display.ensure_view(monitor._controls)
    return monitor, model, optimizer


def _button(monitor):
    return monitor._display.view.steer_buttons.back_button


def test_a_click_on_another_thread_branches_at_the_next_epoch_boundary_of_a_real_loop(quiet_comms):
    monitor, model, optimizer = _monitor()
    button = _button(monitor)
    x = torch.randn(64, 4, generator=torch.Generator().manual_seed(1))
    y = (x**2).sum(dim=1, keepdim=True)
    gate, at_gate, val_before, errors = threading.Event(), threading.Event(), {}, []

    def train():
        try:
            for epoch in monitor.epochs(10):
                with torch.no_grad():
                    val_before[epoch] = torch.nn.functional.mse_loss(model(x + 0.3), y).item()
                for _ in range(5):
                    loss = torch.nn.functional.mse_loss(model(x), y)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    monitor.log_step(train=loss)
                with torch.no_grad():
                    val = torch.nn.functional.mse_loss(model(x + 0.3), y).item()
                monitor.log(train=loss.item(), val=val)
                if epoch == 5:  # the test clicks here: the loop cannot outrun it
                    at_gate.set()
                    assert gate.wait(WAIT), "the test never opened the gate"
        except BaseException as error:
            errors.append(error)

    trainer = threading.Thread(target=train, daemon=True)
    trainer.start()
    assert at_gate.wait(WAIT), "the loop never reached epoch 5"
    monitor._draw()  # a frame while the loop runs: the button can act
    assert not button.disabled and button.tooltip.startswith("Back to the best epoch's weights")
    best = monitor.best_epoch
    clicker = threading.Thread(target=button.click)
    clicker.start()
    clicker.join(timeout=WAIT)
    assert button.description == "Back to best (asked)" and monitor.runs == []  # only requested
    gate.set()
    trainer.join(timeout=WAIT)
    assert not trainer.is_alive() and not errors, errors
    (run1,) = monitor.runs
    assert list(run1.epochs) == list(range(6))
    assert monitor.history.lineage == ("run 1", best)
    (event,) = monitor.history.events
    assert (event.kind, event.source, event.old, event.new) == ("branch", "control", 0.05, 0.05)
    # 10 epochs in all: 6 in run 1, then 4 in run 2 from the best epoch on; the first began with its weights.
    assert list(monitor.history.epochs) == [best, *range(best + 1, best + 5)]
    assert val_before[best + 1] == run1.val[best]
    monitor._draw()
    assert button.disabled and button.description == "Back to best"  # the loop ended
    assert button.tooltip == "Not available: the loop has ended: monitor.branch() goes back."


def test_the_button_is_disabled_with_the_reason_where_a_branch_cannot_work(quiet_comms):
    monitor, _, _ = _monitor(optimizer=None)
    button = _button(monitor)
    monitor._display.view.steer_buttons.render(True)  # as a running loop's frame renders it
    assert button.disabled
    assert button.tooltip.startswith("Not available: the monitor does not know the optimizer")
    button.click()  # a click that reaches it anyway (a stale frontend) requests nothing
    assert monitor._steering.branch_request is None
    monitor, _, _ = _monitor(snapshot_optimizer=False)
    monitor._display.view.steer_buttons.render(True)
    assert _button(monitor).disabled and "snapshot_optimizer=False" in _button(monitor).tooltip
    monitor, _, _ = _monitor()
    monitor._display.view.steer_buttons.render(True)
    assert _button(monitor).tooltip == "Not available: there is no best epoch yet: log a finite validation loss first."
    monitor.log(train=1.0, val=1.0)
    monitor._display.view.steer_buttons.render(True)
    assert not _button(monitor).disabled


def test_the_controls_row_wraps_rather_than_squeezing_labels_and_sliders(quiet_comms):
    """Measured in Chromium (tests/e2e/test_steering.py): in one row that could not wrap, Stop, the four
    steering buttons, two sliders and the log toggle did not fit a notebook cell, and the browser
    shrank "lr ×½" and "lr ×2" to "l…" and both sliders' tracks to 0 px. The row wraps; no button
    of it shrinks below its label."""
    import ipywidgets as widgets

    monitor, _, _ = _monitor()
    view = monitor._display.view
    (row,) = [child for child in view.root.children if view.stop_button in getattr(child, "children", ())]
    assert row.layout.flex_flow == "row wrap"
    buttons = [child for child in row.children if isinstance(child, widgets.Button)]
    assert [button.description for button in buttons] == ["Stop", "Pause", "lr ×½", "lr ×2", "Back to best"]
    assert all(button.layout.flex == "0 0 auto" for button in buttons)
