"""Best-weights snapshots: an in-memory CPU copy of a model's state_dict (torch imported lazily)."""

from __future__ import annotations

import copy
from typing import Any


def check_model(model: Any) -> Any:
    if model is None:
        return None
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


def restore(model: Any, state: dict) -> None:
    """Load ``state`` into ``model`` on the model's own devices."""
    model.load_state_dict(state)
