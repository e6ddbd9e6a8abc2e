"""Best-weights snapshots: an in-memory CPU copy of a model's state_dict, saved atomically, loaded back
(torch imported lazily)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any


def check_model(model: Any) -> Any:
    if model is None:
        return None
    if isinstance(model, type):
        raise TypeError(
            f"'model' must be a model instance, not the class {model.__name__}: pass {model.__name__}(...) "
            "(the model being trained)"
        )
    if not (callable(getattr(model, "state_dict", None)) and callable(getattr(model, "load_state_dict", None))):
        raise TypeError(
            f"'model' must be a torch.nn.Module (something with state_dict/load_state_dict): got {type(model).__name__}"
        )
    return model


def snapshot(model: Any) -> dict:
    """A detached CPU copy of ``model.state_dict()`` that later training cannot change."""
    return {
        name: value.detach().to("cpu", copy=True) if hasattr(value, "detach") else copy.deepcopy(value)
        for name, value in model.state_dict().items()
    }


def save_state(path: Any, state: dict) -> None:
    """Write ``state`` with torch.save, atomically: a crash mid-write keeps the previous file.

    Read it back with ``torch.load(path, weights_only=True)``.
    """
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        torch.save(state, partial)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)  # no half-written file left behind
        raise


def restore(model: Any, state: dict) -> None:
    """Load ``state`` into ``model`` on the model's own devices."""
    model.load_state_dict(state)
