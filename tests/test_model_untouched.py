"""A monitor leaves the user's model as the user had it: a whole model still saves with torch.save
(the way many tutorials save), a deep copy carries no monitor, and the teaching probe still works."""

from __future__ import annotations

import copy
import gc
import io
import warnings

import pytest

torch = pytest.importorskip("torch")

import losswidget as lw  # noqa: E402


def dropout_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 1))


def test_a_watched_model_still_saves_whole_and_loads_back(tmp_path):
    model = dropout_model()
    monitor = lw.LiveLossMonitor(model=model, display="none")
    for _ in monitor.epochs(2):
        model.train()
        loss = model(torch.ones(4, 3)).pow(2).mean()
        monitor.log(train=loss, val=0.5)
    path = tmp_path / "whole.pt"
    torch.save(model, path)  # failed with "Can't pickle local object" while the probe was a closure
    loaded = torch.load(path, weights_only=False)
    loaded.eval()
    model.eval()
    assert torch.equal(loaded(torch.ones(1, 3)), model(torch.ones(1, 3)))
    with torch.no_grad():  # the loaded copy's probe belongs to no monitor: nothing is noted anywhere
        loaded.train()
        loaded(torch.ones(1, 3))
    assert not monitor._guards.train_mode_without_grad


def test_a_deep_copy_carries_no_monitor_and_the_original_still_warns():
    model = dropout_model()
    monitor = lw.LiveLossMonitor(model=model, display="none")
    clone = copy.deepcopy(model)
    with torch.no_grad():
        clone.train()
        clone(torch.ones(1, 3))
    assert not monitor._guards.train_mode_without_grad  # the copy ran in train mode: not our model
    with torch.no_grad():
        model.train()
        model(torch.ones(1, 3))  # the monitor's own model, validated in train() mode
    with pytest.warns(UserWarning, match="train\\(\\) mode"):
        monitor.log(train=1.0, val=0.5)


def test_the_probe_goes_with_its_monitor():
    model = dropout_model()
    monitor = lw.LiveLossMonitor(model=model, display="none")
    assert len(model._forward_pre_hooks) == 1
    del monitor
    gc.collect()
    assert len(model._forward_pre_hooks) == 0
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.save(model, buffer)
