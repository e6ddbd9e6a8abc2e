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
    on_meta = meta_tensors(model)
    if on_meta:
        raise ValueError(
            f"'model' has {on_meta} on the 'meta' device (shapes without values), whose best weights "
            "cannot be kept: materialise it first, e.g. model.to_empty(device='cpu'), then load or "
            "initialise its weights"
        )
    return model


def meta_tensors(model: Any) -> str | None:
    """The model's parameters and buffers on the 'meta' device, named (None when there are none)."""
    named = getattr(model, "named_parameters", None), getattr(model, "named_buffers", None)
    if not all(callable(each) for each in named):
        return None
    names = [name for each in named for name, tensor in each() if getattr(tensor, "is_meta", False)]
    return _names(names) if names else None


def _names(names: list[str]) -> str:
    shown = ", ".join(repr(name) for name in names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def misfit(model: Any, state: dict) -> str | None:
    """How ``state`` no longer fits ``model`` (a layer added, removed or resized since it was taken), in
    words; None when it loads. Checked before loading: torch's load_state_dict loads what fits before it
    raises, which would leave the model half old, half new."""
    current = model.state_dict()
    added = [name for name in current if name not in state]
    removed = [name for name in state if name not in current]
    resized = [
        f"{name!r} is {tuple(current[name].shape)} now, {tuple(state[name].shape)} then"
        for name in current
        if name in state
        and hasattr(current[name], "shape")
        and hasattr(state[name], "shape")
        and tuple(current[name].shape) != tuple(state[name].shape)
    ]
    problems = [f"the model has {_names(added)} that it did not have then"] if added else []
    problems += [f"it no longer has {_names(removed)}"] if removed else []
    problems += resized[:3]
    return "; ".join(problems) or None


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


def cpu_copy(value: Any) -> Any:
    """A deep copy of a ``state_dict()`` (an optimizer's or a scheduler's: nested dicts, lists and
    tuples) with every tensor detached and copied to the CPU: nothing later training does changes it,
    and loading it never aliases it (torch's ``Optimizer.load_state_dict`` keeps CPU tensors it is given
    as they are, so the optimizer's next step would write into the copy)."""
    if hasattr(value, "detach") and hasattr(value, "to"):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {key: cpu_copy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        items = [cpu_copy(item) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return copy.deepcopy(value)


def tensor_bytes(value: Any) -> int:
    """The bytes held by the tensors in ``value`` (a state, or nested dicts, lists and tuples of them)."""
    if hasattr(value, "element_size") and hasattr(value, "nelement"):
        return int(value.element_size() * value.nelement())
    if isinstance(value, dict):
        return sum(tensor_bytes(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return sum(tensor_bytes(item) for item in value)
    return 0
