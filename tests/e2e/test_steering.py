"""Steering a running training from the chart, in JupyterLab in Chromium (issue 37's browser proof).

A real torch training loop runs in the kernel; the test clicks the widget's own buttons ("lr ×½",
Pause/Resume, Stop, "Back to best") while the cell runs. The cell itself records what the training
did (the optimizer's rate and the clock at each step, the optimizer's state when the best epoch
moved) and prints it as one JSON line after the loop; every assertion is on those printed numbers,
none on how long something took. Waits are bounded. Screenshots go to tests/e2e/artifacts/.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import time

SETUP = """
import copy, json, time, torch, losswidget as lw
torch.manual_seed(0)
g = torch.Generator().manual_seed(1)
rates, times, snapshots = [], [], {}  # per step: the optimizer's rate and the clock; by best epoch: its state

def steps_of_sgd(steps=10, pause=0.02):
    for _ in range(steps):
        time.sleep(pause)
        loss = torch.nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        rates.append(optimizer.param_groups[0]["lr"])
        times.append(time.monotonic())
        optimizer.step()
        if monitor.log_step(train=loss):  # Stop asked for: no further step
            return

def events():
    return [[e.kind, e.epoch, e.step, e.old, e.new, e.source, e.parent] for e in monitor.history.events]
"""

# Full-batch SGD on a linear model whose inputs have x.T @ x / n = I: the loss is |w - w*|², and each
# step multiplies it by exactly (1 - 2 lr)². The training curve's slope on a log scale is then
# 2 log(1 - 2 lr) per step: halving the rate makes it log(1 - lr) / log(1 - 2 lr) ≈ 0.499 as steep.
SGD = """
q, _ = torch.linalg.qr(torch.randn(64, 4, generator=g, dtype=torch.float64))
x = q * 8.0  # 64 rows: x.T @ x / 64 is the identity
y = x @ torch.tensor([[1.5], [-2.0], [1.0], [0.5]], dtype=torch.float64)
model = torch.nn.Linear(4, 1, bias=False).double()
optimizer = torch.optim.SGD(model.parameters(), lr=0.005)
monitor = lw.LiveLossMonitor(patience=None, model=model, optimizer=optimizer)
monitor
"""

SGD_LOOP = """
for epoch in monitor.epochs(1000):
    steps_of_sgd()
    with torch.no_grad():
        monitor.log(val=torch.nn.functional.mse_loss(model(x), y).item())
print("ENDED", json.dumps({"rates": rates, "times": times, "events": events(), "train": monitor.history.train.tolist(),
      "epochs": monitor.history.epochs.tolist(), "code": str(monitor.stop_code), "reason": monitor.stopped_reason}))
"""

# Adam on a linear regression, validated on a task it meets halfway (the targets halved): the
# validation loss falls to a best epoch (14), then rises. After the best epoch moves, the cell keeps
# a deep copy of the optimizer's state; at the top of run 2's first epoch (before any step) it
# measures the validation loss and copies the optimizer's state again.
ADAM = """
x, x_val = torch.randn(64, 4, generator=g), torch.randn(64, 4, generator=g)
w_true = torch.tensor([[1.5], [-2.0], [1.0], [0.5]])
y, y_val = x @ w_true, 0.5 * (x_val @ w_true)
model = torch.nn.Linear(4, 1)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
monitor = lw.LiveLossMonitor(patience=None, model=model, optimizer=optimizer)
val_at, run2 = {}, None

def validation():
    with torch.no_grad():
        return torch.nn.functional.mse_loss(model(x_val), y_val).item()

def same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(u, v) for u, v in zip(a, b))
    return torch.equal(a, b) if torch.is_tensor(a) else a == b

monitor
"""

ADAM_LOOP = """
for epoch in monitor.epochs(1000):
    if monitor.history.lineage is not None and run2 is None:  # run 2's first epoch, before its first step
        run2 = (epoch, validation(), copy.deepcopy(optimizer.state_dict()))
    if run2 is not None and epoch >= run2[0] + 10:
        monitor.stop("run 2 went on for 10 epochs")
    for _ in range(8):
        time.sleep(0.02)
        loss = torch.nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        monitor.log_step(train=loss)
    best = monitor.best_epoch
    val_at[epoch] = validation()
    monitor.log(val=val_at[epoch])
    if monitor.best_epoch != best:  # the best moved to this epoch: its training state, as it is now
        snapshots[monitor.best_epoch] = copy.deepcopy(optimizer.state_dict())
lineage = monitor.history.lineage
print("ENDED", json.dumps({"lineage": lineage, "run2_epoch": run2[0], "run2_val": run2[1],
      "best_val": val_at[lineage[1]], "events": events(), "run1_epochs": monitor.runs[0].epochs.tolist(),
      "run2_epochs": monitor.history.epochs.tolist(), "run2_first_val": monitor.history.val.tolist()[0]}))
print("WEIGHTS RESTORED", run2[1] == val_at[lineage[1]])
print("OPTIMIZER RESTORED", same(run2[2], snapshots[lineage[1]]))
"""


def _ended(nb, timeout: float = 30) -> dict:
    text = nb.wait_for_output("ENDED", timeout=timeout)
    line = next(line for line in text.splitlines() if line.startswith("ENDED "))
    return json.loads(line[len("ENDED ") :])


def _epoch(nb) -> int:
    return int(re.search(r"Epoch (\d+)", nb.status()).group(1))


def _shot(nb, label: str) -> None:
    """A screenshot with the widget scrolled to the top of the notebook's panel (its chart, rate panel,
    buttons and status in view rather than the cell's code)."""
    nb.page.eval_on_selector(".losswidget", "e => e.scrollIntoView({block: 'start'})")
    nb.screenshot(label)


CRAMPED = """() => {
    const row = [...document.querySelectorAll('.losswidget button')].find(b => /Stop/.test(b.textContent)).parentElement;
    const cut = [...row.querySelectorAll('button')].filter(b => b.offsetWidth && b.scrollWidth > b.clientWidth)
        .map(b => b.textContent.trim());
    const tracks = [...row.querySelectorAll('.widget-slider .noUi-target')].map(t => t.offsetWidth);
    return {cut, tracks};
}"""


def _click(nb, label: str) -> None:
    nb.page.click(f'.losswidget button:has-text("{label}")', timeout=10_000)


def test_the_rate_control_moved_mid_run_changes_the_optimizers_rate_at_the_next_step_and_the_curves_slope(notebook):
    nb = notebook([SETUP + SGD, SGD_LOOP])
    nb.run_all()
    nb.wait_for_widget()
    nb.wait_for_status(r"Epoch ([4-9]|\d\d+) of epochs 0–999")
    _shot(nb, "rate-before")
    _click(nb, "lr ×½")
    nb.wait_for_status(r"Learning rate 0\.005 → 0\.0025 at epoch \d+, step \d+, by the control")
    changed_in = _epoch(nb)
    nb.wait_for_status(rf"Epoch ({'|'.join(str(changed_in + k) for k in range(5, 40))})\b")
    _shot(nb, "rate-after")  # the rate panel steps down; the loss chart marks "lr ×0.5"
    # Every control readable: no button's label cut short, each slider with a track to drag.
    cramped = nb.page.evaluate(CRAMPED)
    assert cramped["cut"] == [] and min(cramped["tracks"]) >= 100, cramped
    _click(nb, "Stop")
    run = _ended(nb)

    (event,) = [e for e in run["events"] if e[0] == "lr"]
    _, epoch, step, old, new, source, _ = event
    assert (old, new, source) == (0.005, 0.0025, "control")
    rates = run["rates"]
    # Within one step: every step before the event's step used 0.005, every step from it on 0.0025.
    first_changed = next(i for i, rate in enumerate(rates) if rate != rates[0])
    assert first_changed == step, f"the rate changed at step {first_changed}; the event says step {step}"
    assert set(rates[:step]) == {0.005} and set(rates[step:]) == {0.0025}
    # The per-epoch training loss (the chart's curve) falls half as steeply once the rate is halved.
    train = dict(zip(run["epochs"], run["train"]))
    whole = run["epochs"][:-1]  # the last epoch ended at the Stop, part way
    slopes = {e: math.log(train[e + 1] / train[e]) for e in whole if e + 1 in whole}
    before = [s for e, s in slopes.items() if e + 1 < epoch]
    after = [s for e, s in slopes.items() if e > epoch]
    assert len(before) >= 3 and len(after) >= 3, (epoch, run["epochs"])
    expected = 20 * math.log(1 - 2 * 0.005), 20 * math.log(1 - 2 * 0.0025)  # ten steps an epoch
    assert max(abs(s - expected[0]) for s in before) < 1e-6, before
    assert max(abs(s - expected[1]) for s in after) < 1e-6, after
    assert run["code"] == "StopReason.USER"


def _paused_sgd_run(notebook):
    """The SGD loop running in JupyterLab, past epoch 3, paused by its button."""
    nb = notebook([SETUP + SGD, SGD_LOOP])
    nb.run_all()
    nb.wait_for_widget()
    nb.wait_for_status(r"Epoch ([3-9]|\d\d+) of epochs 0–999")
    _click(nb, "Pause")
    nb.wait_for_status(r"Paused at epoch \d+, step \d+")
    return nb


def test_pause_holds_the_loop_with_no_step_until_resume(notebook):
    nb = _paused_sgd_run(notebook)
    nb.page.wait_for_selector('.losswidget button:has-text("Resume")', timeout=10_000)
    time.sleep(3.2)  # the pause this test holds; the assertion below is on the cell's own clock
    status = nb.wait_for_status(r"Paused at epoch \d+, step \d+")  # still held
    _shot(nb, "paused")
    _click(nb, "Resume")
    resumed_in = int(re.search(r"Paused at epoch (\d+)", status).group(1))
    nb.wait_for_status(rf"Epoch ({'|'.join(str(resumed_in + k) for k in range(2, 40))})\b")
    _shot(nb, "resumed")  # the chart marks the pause
    _click(nb, "Stop")
    run = _ended(nb)

    pauses = [e for e in run["events"] if e[0] == "pause"]
    resumes = [e for e in run["events"] if e[0] == "resume"]
    assert len(pauses) == 1 and len(resumes) == 1, run["events"]
    pause_step, resume_step = pauses[0][2], resumes[0][2]
    assert pause_step == resume_step and pauses[0][5] == resumes[0][5] == "control"
    assert f"Paused at epoch {pauses[0][1]}, step {pause_step}" in status
    times = run["times"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    longest = max(range(len(gaps)), key=gaps.__getitem__)
    # gaps[i] lies between step i and step i + 1; the pause held before step pause_step.
    assert gaps[longest] >= 3.0, f"the longest gap between steps was {gaps[longest]:.2f} s"
    assert longest + 1 == pause_step, f"the longest gap is before step {longest + 1}; the pause at step {pause_step}"
    assert len(times) > pause_step + 10  # the training went on after Resume
    assert run["code"] == "StopReason.USER"


def test_stop_while_paused_ends_the_loop_with_the_buttons_reason(notebook):
    nb = _paused_sgd_run(notebook)
    _shot(nb, "paused-then-stop")
    _click(nb, "Stop")
    run = _ended(nb, timeout=20)

    assert run["code"] == "StopReason.USER"
    assert run["reason"] == "the Stop button was pressed", run["reason"]
    kinds = [e[0] for e in run["events"]]
    assert kinds == ["pause"], run["events"]  # held, then ended: no resume
    assert len(run["times"]) == run["events"][0][2]  # no step after the pause
    status = nb.wait_for_status("Stopped")
    assert "Stopped: the Stop button was pressed" in status
    _shot(nb, "stopped-while-paused")


def test_back_to_best_starts_run_2_from_the_best_epochs_weights_and_optimizer_state(notebook):
    nb = notebook([SETUP + ADAM, ADAM_LOOP])
    nb.run_all()
    nb.wait_for_widget()
    nb.wait_for_status(r"Epoch (2[2-9]|[3-9]\d) of epochs 0–999")  # past the best epoch (14)
    _shot(nb, "best-before")
    _click(nb, "Back to best")
    nb.wait_for_status("Back to epoch 14 of run 1, lr 0.01 → 0.01, by the control")
    _shot(nb, "branched")  # run 1 faded and whole; run 2 on from epoch 14
    text = nb.wait_for_output("OPTIMIZER RESTORED", timeout=45)
    _shot(nb, "run-2-ended")
    run = _ended(nb)

    best = run["lineage"][1]
    assert run["lineage"] == ["run 1", 14]
    (branch,) = [e for e in run["events"] if e[0] == "branch"]
    assert branch[1] == best and branch[5] == "control" and branch[6] == "run 1"
    assert branch[3] == branch[4] == 0.01  # no rate change asked: the best epoch's own
    assert run["run1_epochs"][-1] >= 22  # run 1 kept whole
    assert run["run2_epochs"][:2] == [best, best + 1]  # numbered on from the branch point
    assert run["run2_epoch"] == best + 1
    assert run["run2_val"] == run["best_val"] == run["run2_first_val"]
    assert "WEIGHTS RESTORED True" in text
    assert "OPTIMIZER RESTORED True" in text
