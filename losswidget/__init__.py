"""losswidget: live train/validation loss charts for PyTorch loops in Jupyter.

Importing the package loads only the numpy-based core; the widget (ipywidgets,
bqplot) and the torch helpers load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from losswidget.core.decimate import decimate
from losswidget.core.diagnosis import Diagnosis, diagnose
from losswidget.core.history import History
from losswidget.core.replay import would_stop_at
from losswidget.core.smoothing import smooth
from losswidget.core.stopping import EarlyStopping, StopReason

__version__ = "0.1.0"

_LAZY = {
    "LiveLossMonitor": "losswidget.run.monitor",
    "fit": "losswidget.integrations.training",
    "evaluate": "losswidget.integrations.training",
    "accuracy": "losswidget.integrations.training",
    "watch": "losswidget.watching",
    "LightningCallback": "losswidget.integrations.lightning",
    "TrainerCallback": "losswidget.integrations.huggingface",
    "KerasCallback": "losswidget.integrations.keras_fit",
    "FastaiCallback": "losswidget.integrations.fastai_learner",
    "Output": "losswidget.outputs.base",
    "RunInfo": "losswidget.outputs.base",
    "TensorBoardLog": "losswidget.outputs.tensorboard",
    "TrackerLog": "losswidget.outputs.tracker",
    "ClassFolder": "losswidget.classroom.send",
    "ClassServer": "losswidget.classroom.server_send",
    "open_class": "losswidget.classroom.server_send",
    "Classroom": "losswidget.classroom.view",
    "classroom": "losswidget.classroom.view",
}

__all__ = [
    "Diagnosis",
    "EarlyStopping",
    "History",
    "StopReason",
    "decimate",
    "diagnose",
    "smooth",
    "would_stop_at",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'losswidget' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
