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


def save_state(path: Any, state: dict) -> None:
    """Write ``state`` with torch.save, atomically: a crash mid-write keeps the previous file.

    Read it back with ``torch.load(path, weights_only=True)``.
    """
    from pathlib import Path

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


def has_mode_dependent_layers(model: Any) -> bool:
    """True if ``model`` has layers that act differently in train() and eval() (dropout, batch norm)."""
    import torch

    kinds = (torch.nn.modules.dropout._DropoutNd, torch.nn.modules.batchnorm._NormBase)
    modules = model.modules() if callable(getattr(model, "modules", None)) else []
    return any(isinstance(module, kinds) for module in modules)


def watch_train_mode_without_grad(model: Any, guards: Any) -> Any:
    """Note on ``monitor`` when ``model`` runs forward in train() mode with gradients off:
    validation computed in the wrong mode. Returns the hook handle (``.remove()``)."""
    import weakref

    import torch

    if not has_mode_dependent_layers(model):
        return None
    owner = weakref.ref(guards)

    def before_forward(module: Any, args: Any) -> None:
        if module.training and not torch.is_grad_enabled():
            watcher = owner()
            if watcher is not None:
                watcher.train_mode_without_grad = True

    return model.register_forward_pre_hook(before_forward)
